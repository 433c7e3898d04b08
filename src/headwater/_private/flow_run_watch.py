"""The watcher: notices cancels and resumes asked for through the API, and acts on them here.

Another process cannot reach into this one; it stores its request as a flow
run's state (see :mod:`~headwater._private.remote_control`). While this
process runs a recorded top-level flow run, one task on the background loop
looks at the recorded state of every flow run active here (top-level and subflow runs,
paused ones included) every ``HEADWATER_FLOW_RUN_WATCH_INTERVAL`` seconds,
through a reader of :mod:`~headwater._private.flow_run_readers`:

- CANCELLING: the run is cancelled in-process, as ``cancel_flow_run`` does
  here (cascading to subflows, running ``on_cancellation`` hooks, releasing
  slots), so it ends Cancelled.
- RUNNING carrying the key of the pause a run waits in: the wait is
  released with the stored input (``pausing.resume_from_api`` validates it).
- PAUSED with ``pause_reschedule`` (``suspend_flow_run(flow_run_id=...)``
  from another process): the run's work is cancelled with the run noted as
  suspended (``suspending.note_requested``), so it stops Paused, not
  Cancelled, and a resume starts it again from its deployment.

Stale states are never acted on. Records reach the database a few
milliseconds after the engine sets them, so the stored state may lag this
process's own; but the engine never records CANCELLING for a flow run, and
never puts a ``pause_key`` on a RUNNING state, so both can only come from
someone else. A RUNNING state resuming an earlier pause carries that
pause's key, not the current one's.

The task starts with the first watched run and ends at its first wake-up
with none left (so flows run one after another share it); a process that
runs no flow, or records nothing (``HEADWATER_API_ENABLE_RECORDING=false``),
never starts it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import uuid
from typing import TYPE_CHECKING

from headwater._private import background

if TYPE_CHECKING:
    from headwater._private.flow_run_readers import Observed, Reader
    from headwater._private.target import Target

__all__ = ["act", "unwatch", "watch"]

_logger = logging.getLogger("headwater.flow_runs")
_lock = threading.Lock()
_watched: dict[uuid.UUID, Target] = {}  # top-level run id -> where it is recorded
_service: concurrent.futures.Future[None] | None = None  # the watching task, while it runs
_wake = background.Waker()  # cuts a wait short when a shorter interval is asked for
_interval = 2.0


def watch(flow_run_id: uuid.UUID) -> None:
    """Watch a recorded top-level flow run, and its subflow runs, until `unwatch`."""
    global _service, _interval
    from headwater._private.target import current_target

    target = current_target()
    with _lock:
        _watched[flow_run_id] = target
        if target.watch_interval < _interval:
            _wake.set()
        _interval = target.watch_interval
        if _service is None:
            _service = background.spawn(_serve, "flow-run watcher")


def unwatch(flow_run_id: uuid.UUID) -> None:
    """Stop watching a top-level flow run (it ended); idempotent."""
    with _lock:
        _watched.pop(flow_run_id, None)


def watching() -> bool:
    """Whether the watching task runs (for tests)."""
    return _service is not None


async def _serve() -> None:
    global _service
    readers: dict[Target, Reader] = {}
    try:
        while True:
            await _wake.wait(_interval)
            with _lock:
                if not _watched:
                    _service = None  # under the lock: watch() starts a new task after this
                    return
                targets = set(_watched.values())
            await _poll(targets, readers)
    finally:
        for reader in readers.values():
            await _close(reader)


async def _poll(targets: set[Target], readers: dict[Target, Reader]) -> None:
    from headwater._private.cancellation import active_flow_run_ids
    from headwater._private.flow_run_readers import reader_for
    from headwater._private.pausing import paused_flow_run_ids

    for gone in [t for t in readers if t not in targets]:
        await _close(readers.pop(gone))
    active = active_flow_run_ids()
    if not active:
        return
    paused = paused_flow_run_ids()
    for target in targets:
        reader = readers.get(target)
        if reader is None:
            reader = readers[target] = reader_for(target)
        try:
            observed = await reader.read(active, paused)
        except Exception as exc:  # the next poll tries again
            _logger.debug("Could not read the flow runs' recorded states: %r", exc)
            continue
        act(observed)


def act(observed: list[Observed]) -> None:
    """Cancel or resume the runs whose recorded state asks for it (see the module docs)."""
    from headwater._private.cancellation import get_scope
    from headwater._private.pausing import resume_from_api

    for seen in observed:
        if seen.state_type == "CANCELLING":
            scope = get_scope(seen.run_id)
            if scope is not None and not scope.cancelled:
                _logger.info("Flow run %s: cancellation was requested through the API.",
                             seen.run_id)
                default = f"Flow run {seen.run_id} was cancelled through the API."
                scope.cancel(seen.message or default)
        elif seen.state_type == "PAUSED":
            _suspend_requested(seen)
        elif (seen.state_type == "RUNNING" and "pause_key" in seen.details
              and resume_from_api(seen.run_id, seen.details["pause_key"], seen.state_id,
                                  seen.details)):
            _logger.info("Flow run %s: resumed through the API.", seen.run_id)


def _suspend_requested(seen: Observed) -> None:
    """Another process suspended (or paused with reschedule) a run running here: stop it."""
    from headwater._private.cancellation import get_scope
    from headwater._private.pausing import paused_flow_run_ids
    from headwater._private.suspending import note_requested

    if not seen.details.get("pause_reschedule") or seen.run_id in paused_flow_run_ids():
        return  # a pause waiting in this process, recorded by itself
    scope = get_scope(seen.run_id)
    if scope is None or scope.cancelled:
        return
    if note_requested(seen.run_id, seen.details, seen.message):
        _logger.info("Flow run %s: suspended through the API; stopping it here.", seen.run_id)
        scope.cancel("The flow run was suspended through the API.")


def _after_fork() -> None:
    """A forked child runs none of its parent's flow runs, and has no background loop yet."""
    global _lock, _service, _wake
    _lock = threading.Lock()
    _watched.clear()
    _service = None
    _wake = background.Waker()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


async def _close(reader: Reader) -> None:
    try:
        await reader.close()
    except Exception as exc:
        _logger.debug("Closing a flow run reader failed: %r", exc)
