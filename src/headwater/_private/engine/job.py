"""What every job shares: the claim that makes it run exactly once, and the settings it reads.

A job is one flow or task run tied to its machine, its driver and (for
tasks) its future: ``task_job.py`` and ``flow_job.py``. The settings the
machines act on are read here, once per flow run, into an
:class:`~headwater._private.engine.specs.EngineSettings`.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from collections.abc import Callable
from typing import Any

from headwater._private.engine.specs import EngineSettings

CLAIM_LOCK = threading.Lock()
"""Guards claims and the small counters of dispatch (held for a few bytecodes)."""

_settings: tuple[uuid.UUID | None, EngineSettings] = (None, EngineSettings())


class Job:
    """What task and flow jobs share: the claim that makes a job run exactly once."""

    __slots__ = ("claimed", "context", "is_async", "loop")

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async
        self.loop: asyncio.AbstractEventLoop | None = None
        self.context: contextvars.Context | None = None
        self.claimed = False

    def try_claim(self) -> bool:
        """Return True for the one caller allowed to run this job."""
        with CLAIM_LOCK:
            if self.claimed:
                return False
            self.claimed = True
            return True


def engine_settings(flow_run_id: uuid.UUID | None,
                    version_lock: bool | None = None) -> EngineSettings:
    """Return the settings for runs of a flow run, read once per flow run.

    The last flow run's are kept, so the task runs of a flow read nothing;
    runs outside any flow (``flow_run_id`` None) read them each time.
    ``version_lock`` is the flow run's own (None: ``HEADWATER_FLOW_RUN_VERSION_LOCK``).
    """
    global _settings
    cached = _settings
    if flow_run_id is not None and cached[0] is flow_run_id:
        return cached[1]
    from headwater._private.settings import get_current_settings

    current = get_current_settings()
    settings = EngineSettings(current.tasks.refresh_cache, current.results.persist_by_default,
                              current.flow_run.result_budget,
                              current.flow_run.version_lock if version_lock is None
                              else version_lock)
    if flow_run_id is not None:
        _settings = (flow_run_id, settings)
    return settings


def env_log_prints() -> bool:
    """``HEADWATER_LOGGING_LOG_PRINTS``, for runs whose flow and task leave it unset."""
    from headwater._private.settings import get_current_settings

    return get_current_settings().logging.log_prints


def call_namer(namer: Callable[[], Any], option: str, owner: str) -> str:
    """Call a ``task_run_name``/``flow_run_name`` callable and check what it returns.

    Raises:
        InvalidOptionError: It returned something other than a non-empty string.
    """
    from headwater.exceptions import InvalidOptionError

    name = namer()
    if not isinstance(name, str) or not name:
        raise InvalidOptionError(
            f"The {option} callable of {owner!r} must return a non-empty string, got {name!r}."
        )
    return name
