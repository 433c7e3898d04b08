"""Carrying out ``Call``: the user's function, in a thread or on a loop, maybe with a deadline.

Both answer ``(True, value)`` or ``(False, exception)``, never raise. At a
deadline they answer ``(False, step.on_timeout())`` at once and leave the
work behind: see :func:`call_with_deadline` and :func:`await_with_deadline`.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import inspect
import threading
from typing import Any

from headwater._private.engine.steps import Call

Outcome = tuple[bool, Any]


def call_sync(step: Call) -> Outcome:
    """Carry out ``Call`` in the calling thread."""
    if step.timeout is not None:
        return call_with_deadline(step)
    try:
        return True, step.fn(*step.args, **step.kwargs)
    except BaseException as exc:
        return False, exc


def call_with_deadline(step: Call) -> Outcome:
    """Run the call in a helper thread and stop waiting at the deadline.

    A sync function cannot be stopped from outside. At the deadline the engine
    moves on (the run is TimedOut) and asks the helper thread to raise the
    timeout error at its next Python bytecode; a function blocked inside a C
    call (a socket read, ``time.sleep``) keeps its thread until the call
    returns, and its result is then thrown away.
    """
    assert step.on_timeout is not None
    box: list[Outcome] = []
    done = threading.Event()
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box.append((True, ctx.run(step.fn, *step.args, **step.kwargs)))
        except BaseException as exc:
            box.append((False, exc))
        finally:
            done.set()

    thread = threading.Thread(target=target, name="headwater-deadline", daemon=True)
    thread.start()
    if done.wait(step.timeout):
        return box[0]
    error = step.on_timeout()
    _raise_in_thread(thread, type(error))
    return False, error


def _raise_in_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
        )


async def call_async(step: Call) -> Outcome:
    """Carry out ``Call`` on the running loop (a sync function is simply called)."""
    try:
        value = step.fn(*step.args, **step.kwargs)
        if not inspect.isawaitable(value):
            return True, value
        if step.timeout is None:
            return True, await value
        return await await_with_deadline(value, step)
    except BaseException as exc:
        return False, exc


async def await_with_deadline(awaitable: Any, step: Call) -> Outcome:
    """Await with a deadline; at the deadline cancel the work and move on regardless."""
    assert step.on_timeout is not None
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=step.timeout)
    if task in done:
        return True, task.result()
    task.cancel()
    # Don't wait for the cancellation to land: a coroutine stuck in blocking
    # code would hold the run. Collect its outcome later so nothing warns.
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return False, step.on_timeout()
