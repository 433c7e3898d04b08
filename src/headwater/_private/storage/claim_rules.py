"""Which scheduled runs a worker may take, and why a run is not taken: one pure rule.

``get_scheduled_flow_runs`` (the server's claim) and ``headwater flow-run
inspect`` (the explanation of a run stuck in Scheduled or Late) both ask
this module, so what a worker does and what inspect says cannot disagree:

- a run goes to a pool's queue (its ``work_queue_name``, else the pool's
  default queue); a paused pool or queue gives nothing;
- labels: the run's labels must be a subset of the worker's; a run without
  labels goes to any worker, unless the pool has ``require_labels``;
- concurrency: a pool's and a queue's ``concurrency_limit`` count the runs
  of that pool or queue that are PENDING, RUNNING or CANCELLING;
- queues are served by priority (1 first), runs by scheduled time.

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ACTIVE_TYPES", "Candidate", "PoolView", "QueueView", "choose", "label_mismatch"]

#: Run states that hold a place in a pool's or a queue's concurrency limit.
ACTIVE_TYPES = ("PENDING", "RUNNING", "CANCELLING")


@dataclass(frozen=True)
class PoolView:
    """A work pool as the rule sees it."""

    name: str
    is_paused: bool = False
    concurrency_limit: int | None = None
    require_labels: bool = False
    default_queue: str = "default"


@dataclass(frozen=True)
class QueueView:
    """A work queue as the rule sees it."""

    name: str
    priority: int = 1
    is_paused: bool = False
    concurrency_limit: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A scheduled run of the pool, as read."""

    id: uuid.UUID
    state_version: int
    scheduled_time: dt.datetime
    queue_name: str | None = None
    labels: tuple[str, ...] = field(default=())


def queue_of(candidate: Candidate, pool: PoolView) -> str:
    """The queue a run waits in: its own, else the pool's default queue."""
    return candidate.queue_name or pool.default_queue


def label_mismatch(run_labels: Iterable[str], worker_labels: Iterable[str],
                   require_labels: bool) -> str | None:
    """Why a worker offering ``worker_labels`` may not take a run; None if it may."""
    needed, offered = set(run_labels), set(worker_labels)
    if not needed:
        if require_labels:
            return ("the pool requires labels (require_labels) and the run has none")
        return None
    missing = needed - offered
    if missing:
        return (f"the run requires labels {sorted(needed)}, the worker offers "
                f"{sorted(offered)} (missing {sorted(missing)})")
    return None


def choose(candidates: Sequence[Candidate], *, pool: PoolView,
           queues: Mapping[str, QueueView], worker_labels: Iterable[str],
           active_in_pool: int, active_by_queue: Mapping[str, int],
           wanted_queues: Iterable[str] | None = None, limit: int | None = None,
           ) -> list[Candidate]:
    """The runs a worker may take now, in the order it should take them.

    Args:
        candidates: The pool's scheduled runs due now.
        pool: The pool.
        queues: The pool's queues by name.
        worker_labels: The worker's labels.
        active_in_pool: Runs of the pool holding a place (``ACTIVE_TYPES``).
        active_by_queue: The same, by queue name.
        wanted_queues: Only these queues (None: all of the pool's).
        limit: At most this many runs (None: no bound but the limits').
    """
    if pool.is_paused:
        return []
    offered = list(worker_labels)
    wanted = set(wanted_queues) if wanted_queues is not None else None
    room_pool = (pool.concurrency_limit - active_in_pool
                 if pool.concurrency_limit is not None else None)
    room: dict[str, int | None] = {}
    for view in queues.values():
        room[view.name] = (view.concurrency_limit - active_by_queue.get(view.name, 0)
                           if view.concurrency_limit is not None else None)

    def order(c: Candidate) -> tuple[int, dt.datetime, str]:
        found = queues.get(queue_of(c, pool))
        return (found.priority if found is not None else 2**31, c.scheduled_time, str(c.id))

    chosen: list[Candidate] = []
    for candidate in sorted(candidates, key=order):
        if limit is not None and len(chosen) >= limit:
            break
        if room_pool is not None and room_pool <= 0:
            break
        name = queue_of(candidate, pool)
        queue = queues.get(name)
        if queue is None or queue.is_paused or (wanted is not None and name not in wanted):
            continue
        if label_mismatch(candidate.labels, offered, pool.require_labels) is not None:
            continue
        left = room[name]
        if left is not None and left <= 0:
            continue
        chosen.append(candidate)
        if left is not None:
            room[name] = left - 1
        if room_pool is not None:
            room_pool -= 1
    return chosen
