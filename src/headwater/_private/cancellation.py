"""Cancel scopes: one per running flow run, so a flow run can be cancelled from anywhere.

The engine opens a scope when a flow run starts and closes it when the run
ends. ``cancel_flow_run(id)`` marks the scope, and those of its subflow runs,
cancelled and runs their callbacks: asyncio tasks of the run are cancelled
at their next ``await`` (``loop.call_soon_threadsafe(task.cancel)``), and
the engine raises `CancellationRequested` at its checkpoints (``check()``)
for sync work, before a task starts and between steps. For a run of another
process, ``cancel_flow_run`` asks through the API instead, and that
process's watcher (``flow_run_watch``) cancels the scope there.

Invariant: once cancelled, a scope stays cancelled; callbacks added later
run at once, and child scopes opened later start cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from headwater.exceptions import CancellationRequested

__all__ = [
    "CancelScope",
    "active_flow_run_ids",
    "as_run_id",
    "cancel_flow_run",
    "cancel_flow_run_async",
    "close_scope",
    "get_scope",
    "open_scope",
]

_logger = logging.getLogger("headwater.flow_runs")
_lock = threading.Lock()
_scopes: dict[uuid.UUID, CancelScope] = {}


class CancelScope:
    """The cancellation state of one flow run and its subflow runs.

    Args:
        flow_run_id: The flow run it belongs to.
        parent: The scope of the parent flow run, if any.
    """

    __slots__ = ("_callbacks", "_cancelled", "_children", "_next", "flow_run_id", "parent",
                 "reason")

    def __init__(self, flow_run_id: uuid.UUID, parent: CancelScope | None = None) -> None:
        self.flow_run_id = flow_run_id
        self.parent = parent
        self.reason: str | None = None
        self._cancelled = False
        self._children: dict[uuid.UUID, CancelScope] = {}
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def cancelled(self) -> bool:
        """True once this run or an ancestor was cancelled."""
        return self._cancelled

    def check(self) -> None:
        """Raise `CancellationRequested` if the run was cancelled (an engine checkpoint)."""
        if self._cancelled:
            raise CancellationRequested(self.flow_run_id, self.reason)

    def cancel(self, reason: str | None = None) -> None:
        """Cancel this run and every subflow run under it; run their callbacks once."""
        callbacks: list[Callable[[], None]] = []
        with _lock:
            self._mark(reason, callbacks)
        for callback in callbacks:
            _call(callback)

    def _mark(self, reason: str | None, out: list[Callable[[], None]]) -> None:
        if not self._cancelled:
            self._cancelled = True
            self.reason = reason
            out.extend(self._callbacks.values())
            self._callbacks.clear()
        for child in list(self._children.values()):
            child._mark(reason, out)

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (once) when the run is cancelled; at once if it already was.

        Returns:
            A function that removes the callback (call it when the work it
            would stop has finished).
        """
        with _lock:
            if not self._cancelled:
                key = self._next
                self._next += 1
                self._callbacks[key] = callback
                return lambda: self._remove(key)
        _call(callback)
        return _noop

    def _remove(self, key: int) -> None:
        with _lock:
            self._callbacks.pop(key, None)

    def add_async_task(self, task: asyncio.Task[Any],
                       loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """Cancel ``task`` on ``loop`` (thread-safely) when the run is cancelled.

        Returns:
            A function that unregisters the task; the engine calls it when the
            task is done (a done callback does it too).
        """
        message = f"Flow run {self.flow_run_id} was cancelled."

        def cancel_task() -> None:
            try:
                loop.call_soon_threadsafe(task.cancel, message)
            except RuntimeError:
                pass  # the loop is closed: the task is gone with it

        remove = self.add_callback(cancel_task)
        task.add_done_callback(lambda _: remove())
        return remove

    def register_child(self, child: CancelScope) -> None:
        """Make ``child`` (a subflow run's scope) cancelled whenever this one is."""
        callbacks: list[Callable[[], None]] = []
        with _lock:
            child.parent = self
            self._children[child.flow_run_id] = child
            if self._cancelled:
                child._mark(self.reason, callbacks)
        for callback in callbacks:
            _call(callback)

    def __repr__(self) -> str:
        return f"CancelScope(flow_run_id={self.flow_run_id!s}, cancelled={self._cancelled})"


def _call(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        _logger.exception("A cancellation callback raised; cancelling the rest anyway.")


def _noop() -> None:
    return None


def open_scope(flow_run_id: uuid.UUID, parent_id: uuid.UUID | None = None) -> CancelScope:
    """Register a running flow run (a subflow under its parent) and return its scope."""
    scope = CancelScope(flow_run_id)
    with _lock:
        _scopes[flow_run_id] = scope
        parent = _scopes.get(parent_id) if parent_id is not None else None
    if parent is not None:
        parent.register_child(scope)
    return scope


def close_scope(flow_run_id: uuid.UUID) -> None:
    """Forget a flow run that ended (idempotent)."""
    with _lock:
        scope = _scopes.pop(flow_run_id, None)
        if scope is not None and scope.parent is not None:
            scope.parent._children.pop(flow_run_id, None)
        if scope is not None:
            scope._callbacks.clear()


def get_scope(flow_run_id: uuid.UUID) -> CancelScope | None:
    """Return the scope of a flow run running in this process, or None."""
    with _lock:
        return _scopes.get(flow_run_id)


def active_flow_run_ids() -> list[uuid.UUID]:
    """Return the ids of the flow runs running in this process (subflow runs included)."""
    with _lock:
        return list(_scopes)


def as_run_id(flow_run_id: uuid.UUID | str) -> uuid.UUID:
    """Return a flow run id given as a UUID or as text."""
    return flow_run_id if isinstance(flow_run_id, uuid.UUID) else uuid.UUID(str(flow_run_id))


def cancel_flow_run(flow_run_id: uuid.UUID | str, reason: str | None = None) -> None:
    """Cancel a flow run, with all its tasks and subflows, in this process or another.

    A run in this process is cancelled at once: async tasks at their next
    ``await``; sync tasks that have not started never start, and running
    ones stop at the next engine checkpoint. The runs end ``Cancelled`` and
    their ``on_cancellation`` hooks run.

    A run in another process is asked through the API (``HEADWATER_API_URL``,
    or the local database): its state becomes ``Cancelling``, and the process
    running it notices within ``HEADWATER_FLOW_RUN_WATCH_INTERVAL`` seconds
    and cancels it as above. This call returns once the request is stored.

    Args:
        flow_run_id: The flow run's id (``headwater.runtime.flow_run.id``).
        reason: Goes into the cancelled states' messages.

    Raises:
        ObjectNotFound: No flow run with this id runs here, nor is recorded
            in the API.
        FlowRunStateError: The run already finished (the message says how).
    """
    run_id = as_run_id(flow_run_id)
    scope = get_scope(run_id)
    if scope is None:
        from headwater._private.remote_control import cancel_through_api

        cancel_through_api(run_id, reason)
        return
    scope.cancel(reason or f"Flow run {run_id} was cancelled.")


async def cancel_flow_run_async(flow_run_id: uuid.UUID | str, reason: str | None = None) -> None:
    """Async twin of `cancel_flow_run`: asks the API without blocking the event loop."""
    run_id = as_run_id(flow_run_id)
    scope = get_scope(run_id)
    if scope is None:
        from headwater._private.remote_control import cancel_through_api_async

        await cancel_through_api_async(run_id, reason)
        return
    scope.cancel(reason or f"Flow run {run_id} was cancelled.")
