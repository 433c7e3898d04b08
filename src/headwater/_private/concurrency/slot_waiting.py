"""Waiting for a queued `SlotTicket`: one loop, written once, and its sync and async drivers.

`waiting` decides, a step at a time, what waiting takes; `wait` carries the
steps out by blocking the calling thread, `wait_async` on the running event
loop. Nothing runs in the background: when time alone may let the queue
move (a lease expires, rate-limit slots decay), the waiter wakes up then
and pokes the manager. On a substituted clock (tests' `FakeClock`) the
waiter sleeps on that clock instead, which moves time on at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple, Protocol

from headwater._private.clock import Clock
from headwater._private.concurrency.lease_handles import SlotTicket
from headwater._private.driving import drive, drive_async
from headwater.exceptions import AcquireConcurrencySlotTimeoutError

__all__ = ["TicketQueue", "wait", "wait_async", "waiting"]


class TicketQueue(Protocol):
    """What a waiter asks of the queue its ticket is in: the `SlotManager`."""

    def _clock(self) -> Clock: ...

    def _poke(self) -> None: ...

    def _abandon(self, ticket: SlotTicket) -> None: ...

    def _time_until_change(self, ticket: SlotTicket) -> float | None: ...

    def _listen(self, ticket: SlotTicket, on_grant: Callable[[], None]) -> bool: ...


class _Sleep(NamedTuple):
    """Let ``seconds`` pass on the manager's substituted clock."""

    seconds: float


class _Park(NamedTuple):
    """Wait at most ``seconds`` (None: no bound) for the grant; answer whether it came."""

    seconds: float | None


_WaitStep = _Sleep | _Park


def waiting(manager: TicketQueue, ticket: SlotTicket, timeout: float | None,
            granted: Callable[[], bool]) -> Generator[_WaitStep, bool, None]:
    """What waiting for ``ticket`` takes, a step at a time: the one loop of both waits.

    Yields :class:`_Sleep` (let time pass on a substituted clock) or
    :class:`_Park` (wait for the grant, bounded); a park's answer says
    whether the grant came. Time alone may let the queue move (a lease
    expires, slots decay): the queue is poked then. At ``timeout`` the
    ticket is cancelled and the timeout raised, unless it was granted
    meanwhile.

    Raises:
        AcquireConcurrencySlotTimeoutError: Not granted within ``timeout``
            (real time).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while not granted():
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            if ticket.cancel():
                raise _timeout_error(ticket, timeout)
            return
        change = manager._time_until_change(ticket)
        if change is not None and type(manager._clock()) is not Clock:
            # A substituted clock (tests' FakeClock) decides how time
            # passes: sleeping on it moves time on at once.
            yield _Sleep(change)
            manager._poke()
            continue
        if not (yield _Park(_shortest(remaining, change))) and change is not None:
            manager._poke()


def wait(manager: TicketQueue, ticket: SlotTicket, timeout: float | None) -> None:
    """Block the calling thread until ``ticket`` is granted (:func:`waiting`'s sync driver)."""
    event = threading.Event()
    if manager._listen(ticket, event.set):
        return

    def carry_out(step: _WaitStep) -> bool:
        if isinstance(step, _Sleep):
            manager._clock().sleep(step.seconds)
            return True
        return event.wait(step.seconds)

    try:
        drive(waiting(manager, ticket, timeout, event.is_set), carry_out)
    except BaseException:
        manager._abandon(ticket)
        raise


async def wait_async(manager: TicketQueue, ticket: SlotTicket, timeout: float | None) -> None:
    """Wait on the running loop until ``ticket`` is granted (:func:`waiting`'s async driver)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(_resolve, future)
        except RuntimeError:  # the loop is closed: nobody will take the lease
            if ticket.lease is not None:
                ticket.lease.release()

    if manager._listen(ticket, wake):
        return

    async def carry_out(step: _WaitStep) -> bool:
        if isinstance(step, _Sleep):
            await manager._clock().sleep_async(step.seconds)
            return True
        done, _ = await asyncio.wait({future}, timeout=step.seconds)
        return bool(done)

    try:
        await drive_async(waiting(manager, ticket, timeout, lambda: ticket.done), carry_out)
    except BaseException:
        manager._abandon(ticket)
        raise


def _timeout_error(ticket: SlotTicket, timeout: float | None) -> BaseException:
    return AcquireConcurrencySlotTimeoutError(
        f"Could not acquire {ticket.occupy} slot(s) of {', '.join(ticket.names)} "
        f"within {timeout:g} second(s).")


def _resolve(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)


def _shortest(*seconds: float | None) -> float | None:
    given = [s for s in seconds if s is not None]
    return max(0.0, min(given)) if given else None
