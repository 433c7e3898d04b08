"""Cancel scopes at registry level: cascade, checkpoints, asyncio task cancellation."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from headwater._private.cancellation import close_scope, get_scope, open_scope
from headwater.exceptions import CancellationRequested, ObjectNotFound
from headwater.runs import cancel_flow_run


def test_cancellation_requested_is_not_an_exception() -> None:
    assert issubclass(CancellationRequested, BaseException)
    assert not issubclass(CancellationRequested, Exception)


def test_check_raises_after_cancel() -> None:
    run_id = uuid.uuid4()
    scope = open_scope(run_id)
    try:
        scope.check()
        cancel_flow_run(str(run_id), reason="user asked")
        assert scope.cancelled
        with pytest.raises(CancellationRequested, match="user asked") as info:
            scope.check()
        assert info.value.flow_run_id == run_id
    finally:
        close_scope(run_id)
    assert get_scope(run_id) is None


def test_cancel_cascades_to_children_and_grandchildren() -> None:
    parent, child, grandchild, sibling = (uuid.uuid4() for _ in range(4))
    scopes = [open_scope(parent), open_scope(child, parent), open_scope(grandchild, child),
              open_scope(sibling)]
    try:
        cancel_flow_run(parent)
        assert [s.cancelled for s in scopes] == [True, True, True, False]
    finally:
        for run_id in (parent, child, grandchild, sibling):
            close_scope(run_id)


def test_cancelling_a_child_leaves_the_parent() -> None:
    parent, child = uuid.uuid4(), uuid.uuid4()
    p, c = open_scope(parent), open_scope(child, parent)
    try:
        c.cancel()
        assert c.cancelled and not p.cancelled
    finally:
        close_scope(child)
        close_scope(parent)


def test_child_opened_after_cancel_starts_cancelled() -> None:
    parent, child = uuid.uuid4(), uuid.uuid4()
    open_scope(parent).cancel()
    try:
        assert open_scope(child, parent).cancelled
    finally:
        close_scope(child)
        close_scope(parent)


def test_callbacks_run_once_and_late_callbacks_run_at_once() -> None:
    scope = open_scope(uuid.uuid4())
    calls: list[str] = []
    remove = scope.add_callback(lambda: calls.append("removed"))
    remove()
    scope.add_callback(lambda: calls.append("a"))
    scope.add_callback(lambda: 1 / 0)  # a failing callback does not stop the others
    scope.add_callback(lambda: calls.append("b"))
    scope.cancel()
    scope.cancel()
    scope.add_callback(lambda: calls.append("late"))
    close_scope(scope.flow_run_id)
    assert calls == ["a", "b", "late"]


def test_cancel_unknown_run() -> None:
    with pytest.raises(ObjectNotFound):
        cancel_flow_run(uuid.uuid4())


def test_async_tasks_are_cancelled_from_another_thread() -> None:
    run_id = uuid.uuid4()
    scope = open_scope(run_id)
    outcome: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        async def long_task() -> None:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        task = asyncio.ensure_future(long_task())
        scope.add_async_task(task, loop)
        await started.wait()
        threading.Thread(target=cancel_flow_run, args=(run_id,)).start()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        close_scope(run_id)
    assert outcome == ["cancelled"]


def test_finished_async_task_is_unregistered() -> None:
    scope = open_scope(uuid.uuid4())

    async def main() -> None:
        task = asyncio.ensure_future(asyncio.sleep(0))
        scope.add_async_task(task, asyncio.get_running_loop())
        await task
        await asyncio.sleep(0)  # let the done callback run

    asyncio.run(main())
    assert scope._callbacks == {}
    scope.cancel()  # the loop is closed and the task done: nothing happens
    close_scope(scope.flow_run_id)
