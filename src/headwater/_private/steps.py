"""Carrying out sans-I/O step generators: the one loop every driver shares.

Logic that must behave the same under several drivers is written once as a
generator: it yields a step (a statement to run, a wait to make), receives
the step's answer, and returns a result. A driver is then one function that
carries out a step, and :func:`drive` or :func:`drive_async` runs the loop
around it. Users: the records write path (``sqlite_records``) and the slot
lease rules (``lease_rules``), over a stdlib ``sqlite3`` connection or the
server's SQLAlchemy one; and waiting for concurrency slots
(``concurrency/manager.py``), in a thread or on an event loop.

Standard library only: embedded mode imports this without the server stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["drive", "drive_async"]

S = TypeVar("S")
T = TypeVar("T")


def drive(steps: Generator[S, Any, T], carry_out: Callable[[S], Any]) -> T:
    """Send each step's answer (``carry_out(step)``) back until ``steps`` returns; return that."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: T = done.value
            return result
        answer = carry_out(step)


async def drive_async(steps: Generator[S, Any, T],
                      carry_out: Callable[[S], Awaitable[Any]]) -> T:
    """:func:`drive` with a step carried out by a coroutine."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: T = done.value
            return result
        answer = await carry_out(step)
