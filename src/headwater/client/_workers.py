"""The client's methods for work pools, queues, workers and flow run heartbeats.

A mixin of `HeadwaterClient` (which gives ``request``), kept apart so each
file stays about one thing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from headwater._private.labels import as_labels
from headwater.client._requester import Requester

__all__ = ["WorkPoolsMixin"]


def _without_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class WorkPoolsMixin(Requester):
    """Work pools (Prefect 2's client method names), queues, workers, heartbeats."""

    # ------------------------------------------------------------------ heartbeats
    async def send_flow_run_heartbeats(self, flow_run_ids: Iterable[uuid.UUID | str],
                                       *, host: str, pid: int, process_start: str | None,
                                       interval: float) -> list[str]:
        """``POST /flow_runs/heartbeat``: these runs' process still runs; the runs stored."""
        body = {"flow_run_ids": [str(i) for i in flow_run_ids], "host": host, "pid": pid,
                "process_start": process_start, "interval": interval}
        answer = await self.request("POST", "flow_runs/heartbeat", json=body)
        return [str(i) for i in answer["stored"]]

    async def read_flow_run_waiting_reasons(self,
                                            flow_run_id: uuid.UUID | str) -> list[dict[str, str]]:
        """``GET /flow_runs/{id}/waiting``: why a Scheduled run is not running (code, message)."""
        answer = await self.request("GET", f"flow_runs/{flow_run_id}/waiting")
        return [dict(r) for r in answer["reasons"]]

    # ------------------------------------------------------------------ pools
    async def create_work_pool(self, name: str, *, type: str = "process",
                               description: str | None = None, is_paused: bool = False,
                               concurrency_limit: int | None = None,
                               require_labels: bool = False,
                               base_job_template: dict[str, Any] | None = None,
                               ) -> dict[str, Any]:
        """``POST /work_pools/``: create a pool with its ``default`` queue."""
        body = _without_none(name=name, type=type, description=description, is_paused=is_paused,
                             concurrency_limit=concurrency_limit, require_labels=require_labels,
                             base_job_template=base_job_template)
        return dict(await self.request("POST", "work_pools/", json=body))

    async def read_work_pool(self, name: str) -> dict[str, Any]:
        """``GET /work_pools/{name}``."""
        return dict(await self.request("GET", f"work_pools/{name}"))

    async def read_work_pools(self, *, limit: int = 200,
                              offset: int = 0) -> list[dict[str, Any]]:
        """``POST /work_pools/filter``: pools by name."""
        return list(await self.request("POST", "work_pools/filter",
                                       json={"limit": limit, "offset": offset}))

    async def update_work_pool(self, name: str, **changes: Any) -> None:
        """``PATCH /work_pools/{name}``: e.g. ``is_paused=True``, ``concurrency_limit=2``."""
        await self.request("PATCH", f"work_pools/{name}", json=changes)

    async def delete_work_pool(self, name: str) -> None:
        """``DELETE /work_pools/{name}``: the pool, its queues and workers."""
        await self.request("DELETE", f"work_pools/{name}")

    # ------------------------------------------------------------------ queues
    async def create_work_queue(self, name: str, *, work_pool_name: str,
                                description: str | None = None, is_paused: bool = False,
                                concurrency_limit: int | None = None,
                                priority: int = 1) -> dict[str, Any]:
        """``POST /work_pools/{pool}/queues/``."""
        body = _without_none(name=name, description=description, is_paused=is_paused,
                             concurrency_limit=concurrency_limit, priority=priority)
        return dict(await self.request("POST", f"work_pools/{work_pool_name}/queues/",
                                       json=body))

    async def read_work_queue(self, name: str, *,
                              work_pool_name: str) -> dict[str, Any]:
        """``GET /work_pools/{pool}/queues/{name}``."""
        return dict(await self.request("GET", f"work_pools/{work_pool_name}/queues/{name}"))

    async def read_work_queues(self, work_pool_name: str) -> list[dict[str, Any]]:
        """``POST /work_pools/{pool}/queues/filter``: by priority."""
        return list(await self.request("POST", f"work_pools/{work_pool_name}/queues/filter"))

    async def update_work_queue(self, name: str, *, work_pool_name: str,
                                **changes: Any) -> None:
        """``PATCH /work_pools/{pool}/queues/{name}``."""
        await self.request("PATCH", f"work_pools/{work_pool_name}/queues/{name}", json=changes)

    async def delete_work_queue(self, name: str, *, work_pool_name: str) -> None:
        """``DELETE /work_pools/{pool}/queues/{name}``."""
        await self.request("DELETE", f"work_pools/{work_pool_name}/queues/{name}")

    # ------------------------------------------------------------------ workers
    async def send_worker_heartbeat(self, work_pool_name: str, worker_name: str, *,
                                    heartbeat_interval_seconds: float | None = None,
                                    labels: Sequence[str] | None = None,
                                    host: str | None = None) -> None:
        """``POST /work_pools/{pool}/workers/heartbeat``."""
        body = _without_none(name=worker_name,
                             heartbeat_interval_seconds=heartbeat_interval_seconds,
                             labels=as_labels(labels), host=host)
        await self.request("POST", f"work_pools/{work_pool_name}/workers/heartbeat", json=body)

    async def read_workers_for_work_pool(self,
                                         work_pool_name: str) -> list[dict[str, Any]]:
        """``POST /work_pools/{pool}/workers/filter``: the most recent heartbeat first."""
        return list(await self.request("POST", f"work_pools/{work_pool_name}/workers/filter"))

    async def get_scheduled_flow_runs_for_work_pool(
            self, work_pool_name: str, *,
            work_queue_names: Sequence[str] | None = None,
            scheduled_before: dt.datetime | None = None, limit: int | None = None,
            worker_name: str | None = None, labels: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """``POST /work_pools/{pool}/get_scheduled_flow_runs``: claim runs for a worker.

        Each run returned was moved to PENDING for this worker; no other
        worker gets it. ``labels`` are the worker's (a list: a single string
        is an error).
        """
        queues = as_labels(work_queue_names, "work_queue_names") \
            if work_queue_names is not None else None
        body = _without_none(work_queue_names=queues, limit=limit, worker_name=worker_name,
                             scheduled_before=scheduled_before.isoformat()
                             if scheduled_before is not None else None,
                             labels=as_labels(labels))
        return list(await self.request(
            "POST", f"work_pools/{work_pool_name}/get_scheduled_flow_runs", json=body))
