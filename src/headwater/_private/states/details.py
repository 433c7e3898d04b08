"""`StateDetails`: the facts that tie a state to its runs, schedule, cache and pause."""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

__all__ = ["StateDetails"]


class StateDetails:
    """Facts about a state that tie it to runs and schedules.

    Attributes mirror Prefect's ``StateDetails``; unset ones are ``None``.
    ``result_record`` is headwater's: the reference (``ResultRecord``) of a
    completed task run's persisted result, recorded with the state so that a
    suspended flow run, resumed in a new process, reuses the result (Prefect
    2 keeps the reference in the state's data).
    """

    __slots__ = (
        "cache_expiration",
        "cache_key",
        "flow_run_id",
        "pause_key",
        "pause_reschedule",
        "pause_timeout",
        "refresh_cache",
        "result_record",
        "retriable",
        "scheduled_time",
        "task_run_id",
        "untrackable_result",
    )

    def __init__(
        self,
        *,
        flow_run_id: uuid.UUID | None = None,
        task_run_id: uuid.UUID | None = None,
        scheduled_time: _dt.datetime | None = None,
        cache_key: str | None = None,
        cache_expiration: _dt.datetime | None = None,
        pause_timeout: _dt.datetime | None = None,
        pause_reschedule: bool = False,
        pause_key: str | None = None,
        refresh_cache: bool | None = None,
        retriable: bool | None = None,
        untrackable_result: bool = False,
    ) -> None:
        self.flow_run_id = flow_run_id
        self.task_run_id = task_run_id
        self.scheduled_time = scheduled_time
        self.cache_key = cache_key
        self.cache_expiration = cache_expiration
        self.pause_timeout = pause_timeout
        self.pause_reschedule = pause_reschedule
        self.pause_key = pause_key
        self.refresh_cache = refresh_cache
        self.retriable = retriable
        self.untrackable_result = untrackable_result
        self.result_record: Any = None

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) not in (None, False)
        )
        return f"StateDetails({fields})"
