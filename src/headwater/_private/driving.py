"""Driving sans-I/O step generators: the one step loop every driver shares.

Logic that must behave the same under several drivers is written once as a
generator: it yields a step (a statement to run, a wait to make, a state to
record), receives the step's answer, and returns a result. A driver is then
one function that carries out a step, and :func:`drive` (in a thread) or
:func:`drive_async` (on an event loop) runs the loop around it.

An exception raised while carrying out a step is thrown back into the
generator at its ``yield``: a generator that catches it can recover (the run
engine's machines turn Ctrl-C during a wait into a Crashed state); one that
does not lets it propagate out of the loop, as if the step had raised there.

Users: the run engine (``engine/drivers.py``), the records write path
(``sqlite_records``), the slot lease rules (``lease_rules``), over a stdlib
``sqlite3`` connection or the server's SQLAlchemy one, and waiting for
concurrency slots (``concurrency/manager.py``).

Standard library only: it sits at the bottom of the layers, and embedded mode
imports it without the server stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["drive", "drive_async"]

S = TypeVar("S")
T = TypeVar("T")


def drive(steps: Generator[S, Any, T], carry_out: Callable[[S], Any]) -> T:
    """Run ``steps`` to its end in the calling thread and return what it returns.

    Args:
        steps: The generator; each yielded step is passed to ``carry_out``.
        carry_out: Carries out one step; its return value is sent back as the
            step's answer, and anything it raises is thrown in instead.
    """
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(answer) if error is None else steps.throw(error)
        except StopIteration as done:
            result: T = done.value
            return result
        error = None
        try:
            answer = carry_out(step)
        except BaseException as exc:
            answer, error = None, exc


async def drive_async(steps: Generator[S, Any, T],
                      carry_out: Callable[[S], Awaitable[Any]]) -> T:
    """:func:`drive` on the running event loop, each step carried out by a coroutine."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(answer) if error is None else steps.throw(error)
        except StopIteration as done:
            result: T = done.value
            return result
        error = None
        try:
            answer = await carry_out(step)
        except BaseException as exc:
            answer, error = None, exc
