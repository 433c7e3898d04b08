"""`APIConcurrencyBackend`: concurrency limits shared by every process using one API.

Slots are leases stored by the API: taken, renewed and released through its
routes (``/concurrency_limits/increment``...), or, in embedded mode on
SQLite, by writing the database file directly with the API's own lease
rules (`SQLiteSlots`); either way a `SlotStore` (``slots.py``) does the
calls. How waiting works:

- Requests of this process queue here, first come, first served per limit;
  only the requests at the head of the queue ask the API, so a hundred
  waiting task runs cost one request per retry, not a hundred.
- A request not granted is retried with backoff: 10 ms, doubling up to
  0.5 s. A slot released in this process wakes the queue at once; one
  released by another process is picked up within the current backoff.
  Across processes the order is best-effort: whoever asks first after a
  slot frees gets it.
- Leases last ``HEADWATER_CONCURRENCY_LEASE_DURATION`` seconds and are
  renewed every third of that while held; a process killed with SIGKILL
  stops renewing, and its slots free themselves when its leases expire.
- Which names have a limit is cached for `REFRESH_SECONDS`: names without
  a limit cost no API call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from headwater._private.concurrency.leases import APILease, APIRequest, no_lease
from headwater._private.concurrency.link import ApiLink
from headwater._private.concurrency.protocol import TAG_PREFIX, ConcurrencyLimit, Lease
from headwater._private.concurrency.reconcile import Reconciler
from headwater._private.concurrency.slots import APISlots, SlotStore
from headwater.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ObjectNotFound,
)

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

_logger = logging.getLogger("headwater.concurrency")

REFRESH_SECONDS = 1.0
"""How long the list of limited names is trusted before it is read again."""
MIN_BACKOFF = 0.01
MAX_BACKOFF = 0.5

_Limits = dict[str, tuple[int, float]]  # name -> (limit, slot_decay_per_second)


class APIConcurrencyBackend:
    """The `ConcurrencyBackend` of processes sharing an API (remote or embedded).

    Args:
        client_factory: Builds the API client (called once, in the backend's
            thread, when first needed: never, for a `SQLiteSlots` store that
            only takes slots).
        lease_duration: Seconds a lease lasts unless renewed (renewed every third of it).
        read_limits: Reads which names have a limit without the API (the
            embedded SQLite file); None asks the API.
        slots: Where leases are taken, renewed and released; None: the API.
    """

    def __init__(self, client_factory: Callable[[], HeadwaterClient],
                 lease_duration: float = 30.0,
                 read_limits: Callable[[], _Limits] | None = None,
                 slots: SlotStore | None = None) -> None:
        self.lease_duration = lease_duration
        self._link = ApiLink(client_factory)
        self._slots: SlotStore = slots if slots is not None else APISlots(self._link)
        self._read_limits = read_limits
        self._limits: _Limits | None = None
        self._fetched_at = 0.0
        self._refreshing = False
        self._queue: list[APIRequest] = []
        self._pump: asyncio.Task[None] | None = None
        self._asking: asyncio.Future[Any] | None = None  # the increment in flight, if any
        self._kick: asyncio.Event | None = None
        self._held: dict[uuid.UUID, APILease] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._tags: frozenset[str] = frozenset()
        self._closing = False  # set by close(): nothing more is granted
        # Releases that failed in an outage, given back as soon as the API answers.
        self._reconciler = Reconciler(self._slots.decrement, self._link.start, self._wake_queue)

    @property
    def limited_tags(self) -> frozenset[str]:
        """Tags that have a limit, as of at most `REFRESH_SECONDS` ago (the first read asks)."""
        self._known()
        return self._tags

    # ------------------------------------------------------------------ known limits
    def _known(self) -> _Limits:
        limits = self._limits
        if limits is None:
            if self._read_limits is not None:  # a local read: no API client needed yet
                self._set_known(self._read_limits())
                return self._limits  # type: ignore[return-value]
            return self._link.call(self._refresh())
        if time.monotonic() - self._fetched_at > REFRESH_SECONDS and not self._refreshing:
            self._refreshing = True
            self._link.spawn(self._refresh)
        return limits

    async def _refresh(self) -> _Limits:
        try:
            if self._read_limits is not None:
                self._set_known(self._read_limits())
                return self._limits  # type: ignore[return-value]
            rows = await self._link.client().request(
                "POST", "concurrency_limits/status", json={"usage": False})
            self._set_known({r["name"]: (int(r["limit"]), float(r["slot_decay_per_second"]))
                             for r in rows})
        except Exception as exc:  # keep the last list; try again at the next refresh
            _logger.warning("Could not read concurrency limits from the API: %s", exc)
            self._set_known(self._limits or {})
        assert self._limits is not None
        return self._limits

    def _set_known(self, limits: _Limits) -> None:
        self._limits, self._fetched_at, self._refreshing = limits, time.monotonic(), False
        self._tags = frozenset(n[len(TAG_PREFIX):] for n in limits if n.startswith(TAG_PREFIX))

    def _limited(self, names: Collection[str], occupy: int, mode: str) -> tuple[str, ...]:
        if isinstance(names, str):
            names = (names,)
        if occupy < 1:
            raise ValueError(f"occupy must be at least 1, got {occupy!r}.")
        limits = self._known()
        limited = tuple(sorted({n for n in names if n in limits}))
        for name in limited:
            _check_possible(name, limits[name], occupy, mode)
        return limited

    # ------------------------------------------------------------------ acquiring
    def _want(self, names: tuple[str, ...], occupy: int, mode: str,
              lease_duration: float | None, holder: str | None,
              on_grant: Callable[[Lease | None], None] | None = None) -> APIRequest:
        duration = lease_duration if lease_duration is not None else self.lease_duration
        return APIRequest(names, occupy, mode, duration, lease_duration is None, holder,
                          on_grant)

    def acquire(self, names: Collection[str], occupy: int = 1, *,
                timeout: float | None = None, lease_duration: float | None = None,
                holder: str | None = None) -> APILease | None:
        """Block until slots on every limited name are free; None when none is limited.

        Raises:
            ConcurrencySlotAcquisitionError: ``occupy`` exceeds a limit.
            AcquireConcurrencySlotTimeoutError: Not granted within ``timeout``.
        """
        limited = self._limited(names, occupy, "concurrency")
        if not limited:
            return None
        want = self._want(limited, occupy, "concurrency", lease_duration, holder)
        return self._block(want, timeout)

    async def acquire_async(self, names: Collection[str], occupy: int = 1, *,
                            timeout: float | None = None,
                            lease_duration: float | None = None,
                            holder: str | None = None) -> APILease | None:
        """Async twin of `acquire`: waits without blocking the caller's loop."""
        limited = self._limited(names, occupy, "concurrency")
        if not limited:
            return None
        want = self._want(limited, occupy, "concurrency", lease_duration, holder)
        return await self._block_async(want, timeout)

    def take_decaying(self, names: Collection[str], occupy: int = 1, *,
                      timeout: float | None = None) -> None:
        """Block until rate-limit slots are free and take them (they decay on the API)."""
        limited = self._limited(names, occupy, "rate_limit")
        if limited:
            self._block(self._want(limited, occupy, "rate_limit", None, None), timeout)

    async def take_decaying_async(self, names: Collection[str], occupy: int = 1, *,
                                  timeout: float | None = None) -> None:
        """Async twin of `take_decaying`."""
        limited = self._limited(names, occupy, "rate_limit")
        if limited:
            await self._block_async(self._want(limited, occupy, "rate_limit", None, None),
                                    timeout)

    def request(self, names: Collection[str], on_grant: Callable[[Lease | None], None],
                occupy: int = 1, *, lease_duration: float | None = None,
                holder: str | None = None) -> APIRequest | None:
        """Queue a request without blocking; ``on_grant(lease)`` runs in the backend's thread.

        Returns:
            The request (``cancel()`` withdraws it), or None when no name has a limit.
        """
        limited = self._limited(names, occupy, "concurrency")
        if not limited:
            return None
        want = self._want(limited, occupy, "concurrency", lease_duration, holder, on_grant)
        self._link.call_soon(lambda: self._enqueue(want))
        return want

    def _block(self, want: APIRequest, timeout: float | None) -> APILease | None:
        self._link.refuse_on_loop()
        future = self._link.submit(self._wait(want, timeout))
        try:
            return future.result()
        except BaseException:
            self._abandon(want)
            raise

    async def _block_async(self, want: APIRequest, timeout: float | None) -> APILease | None:
        try:
            return await asyncio.wrap_future(self._link.submit(self._wait(want, timeout)))
        except BaseException:
            self._abandon(want)
            raise

    def _abandon(self, want: APIRequest) -> None:
        """The waiter gave up (interrupted, cancelled): withdraw, or give back the grant."""
        if not want.withdraw() and want.lease is not None:
            want.lease.release()

    async def _wait(self, want: APIRequest, timeout: float | None) -> APILease | None:
        want.future = asyncio.get_running_loop().create_future()
        self._enqueue(want)
        done, _ = await asyncio.wait({want.future}, timeout=timeout)
        if not done and want.withdraw():
            raise AcquireConcurrencySlotTimeoutError(
                f"Could not acquire {want.occupy} slot(s) of {', '.join(want.names)} "
                f"within {timeout:g} second(s).")
        return want.future.result() if want.future.done() else want.lease

    # ------------------------------------------------------------------ the queue (on the loop)
    def _enqueue(self, want: APIRequest) -> None:
        if want.cancelled:
            return
        self._queue.append(want)
        if self._kick is None:
            self._kick = asyncio.Event()
        self._kick.set()
        if self._pump is None or self._pump.done():
            self._pump = self._link.start(self._serve_queue())

    async def _serve_queue(self) -> None:
        assert self._kick is not None
        delay = MIN_BACKOFF
        # Not after close(): a cancel can be lost in wait_for below (Python 3.11), and
        # a queue that may grant nothing more would then be served forever.
        while self._queue and not self._closing:
            self._kick.clear()
            progressed = await self._try_queue()
            if not self._queue:
                break
            delay = MIN_BACKOFF if progressed else min(delay * 2, MAX_BACKOFF)
            try:
                await asyncio.wait_for(self._kick.wait(), delay)
                delay = MIN_BACKOFF  # a slot was released here: try again now
            except TimeoutError:
                pass

    async def _try_queue(self) -> bool:
        """Ask for every request not queued behind an earlier one; True if any was served.

        Requests served or dropped are taken out in one pass at the end
        (by identity), not one ``list.remove`` each: with a thousand tasks
        queued, removing one by one made every pass quadratic.
        """
        progressed = False
        blocked: set[str] = set()
        done: set[int] = set()
        if self._closing:
            return False
        for want in list(self._queue):
            if want.cancelled:
                done.add(id(want))
                continue
            if blocked.intersection(want.names):
                continue
            try:
                self._asking = self._link.start(self._increment(want))
                granted, lease = await self._asking
            except ConcurrencySlotAcquisitionError as exc:
                if want.future is None:  # a dispatch request: it waits, like in process
                    blocked.update(want.names)
                    continue
                done.add(id(want))
                _settle_error(want, exc)
                continue
            except Exception as exc:
                self._reconciler.failed("ask the API for concurrency slots", exc)
                blocked.update(want.names)
                continue
            self._reconciler.answered()
            if not granted:
                blocked.update(want.names)
                continue
            done.add(id(want))
            progressed = True
            self._settle(want, lease)
        if done:
            # Requests queued during the awaits above are kept, in order.
            self._queue = [want for want in self._queue if id(want) not in done]
        return progressed

    def _settle(self, want: APIRequest, lease: APILease | None) -> None:
        if not want.claim(lease):
            if lease is not None:
                lease.release()
            return
        if want.future is not None and not want.future.done():
            want.future.set_result(lease)
        if want.on_grant is not None:
            try:
                # Never None once queued: the engine tells "granted" by a lease.
                want.on_grant(lease if lease is not None else no_lease())
            except Exception:
                _logger.exception("A concurrency slot callback failed")

    async def _increment(self, want: APIRequest) -> tuple[bool, APILease | None]:
        granted = await self._slots.increment(want)
        if not granted.granted:
            return False, None
        if granted.lease_id is None:
            return True, None
        lease = APILease(self, granted.lease_id, granted.names,
                         want.occupy, want.duration, want.auto_renew, want.holder)
        if lease.auto_renew:
            self._hold(lease)
        return True, lease

    # ------------------------------------------------------------------ held leases
    def _hold(self, lease: APILease) -> None:
        self._held[lease.id] = lease
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self._link.start(self._renew_held())

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease_duration / 3)
            leases = list(self._held.values())
            await asyncio.gather(*(self._renew(lease, lease.duration) for lease in leases))

    async def _renew(self, lease: APILease, duration: float) -> bool:
        try:
            renewed = await self._slots.renew(lease.id, duration)
        except Exception as exc:  # try again at the next beat; the lease may still be live
            self._reconciler.failed("renew a concurrency lease", exc)
            return not lease.released
        self._reconciler.answered()
        if not renewed:
            self._held.pop(lease.id, None)
            if lease.mark_lapsed():
                _logger.warning("A concurrency lease on %s lapsed before it was renewed; "
                                "its slots may be taken by others.", ", ".join(lease.names))
            return False
        lease.expires_at = time.monotonic() + duration
        return True

    def renew_lease(self, lease: APILease, duration: float) -> bool:
        """Renew ``lease`` now (blocking); False when it lapsed."""
        lease.duration = duration
        return self._link.call(self._renew(lease, duration))

    def release_lease(self, lease: APILease) -> None:
        """Decrement in the background, then let this process's waiters try again."""
        async def decrement() -> None:
            self._held.pop(lease.id, None)
            try:
                await self._slots.decrement(lease.id)
            except Exception as exc:  # an outage: given back as soon as the API answers
                self._reconciler.release_failed(lease.id, exc)
            else:
                self._reconciler.answered()
            finally:
                self._wake_queue()

        self._link.spawn(decrement)

    def _wake_queue(self) -> None:
        """A slot was given back here: let this process's waiters ask at once (on the loop)."""
        if self._kick is not None:
            self._kick.set()

    # ------------------------------------------------------------------ limits
    def set_limit(self, name: str, limit: int, slot_decay_per_second: float = 0.0) -> None:
        """Create or change a limit in the API (every process sees it within a second).

        Raises:
            ValueError: ``limit`` is not an int >= 0, the decay is negative, or a
                tag limit is given a decay.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"A concurrency limit must be an int >= 0, got {limit!r}.")
        if slot_decay_per_second < 0:
            raise ValueError(f"slot_decay_per_second must be >= 0, got {slot_decay_per_second!r}.")
        if not name or name == TAG_PREFIX:
            raise ValueError("A concurrency limit needs a name.")
        if name.startswith(TAG_PREFIX):
            if slot_decay_per_second:
                raise ValueError("Tag limits have no slot decay.")
            path, body = "concurrency_limits/", {"tag": name[len(TAG_PREFIX):],
                                                 "concurrency_limit": limit}
        else:
            path, body = "v2/concurrency_limits/", {
                "name": name, "limit": limit, "slot_decay_per_second": slot_decay_per_second}
        self._call("POST", path, body)
        self._link.call(self._refresh())

    def read_limit(self, name: str) -> ConcurrencyLimit | None:
        """Return a snapshot of a limit, with the slots held by every process, or None."""
        found = self._status([name])
        return found[0] if found else None

    def list_limits(self) -> list[ConcurrencyLimit]:
        """Return snapshots of every limit, sorted by name."""
        return self._status(None)

    def reset_limit(self, name: str) -> None:
        """Free every slot of a limit, in every process.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        self._call("POST", _limit_path(name) + "/reset", None, missing=name)

    def delete_limit(self, name: str) -> None:
        """Remove a limit; waiters go ahead.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        self._call("DELETE", _limit_path(name), None, missing=name)
        self._link.call(self._refresh())

    def _status(self, names: list[str] | None) -> list[ConcurrencyLimit]:
        async def read() -> list[ConcurrencyLimit]:
            # This process's releases count first. A grant in flight may be for
            # a request given up meanwhile (a cancelled run), and then goes back
            # at once: wait for it, and for that release.
            asking = self._asking
            if asking is not None and not asking.done():
                await asyncio.wait({asking})
                await asyncio.sleep(0)  # the queue settles the grant first
            await self._link.drain()
            return await self._slots.status(names)

        found = self._link.call(read())
        waiting = self._link.call(self._waiting())
        return [dataclasses.replace(lim, waiting=waiting.get(lim.name, 0)) for lim in found]

    async def _waiting(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for want in self._queue:
            for name in want.names:
                counts[name] = counts.get(name, 0) + 1
        return counts

    def _call(self, method: str, path: str, body: Any, missing: str | None = None) -> Any:
        from headwater.client import APIError

        async def send() -> Any:
            return await self._link.client().request(method, path, json=body)

        try:
            return self._link.call(send())
        except APIError as exc:
            if exc.status_code == 404 and missing is not None:
                raise ObjectNotFound(f"No concurrency limit named {missing!r}.") from None
            raise

    def close(self, timeout: float = 5.0) -> None:
        """Grant nothing more, release held leases and finish pending calls.

        Closing first: the releases wake this process's waiters, and a grant
        made for one now would be a lease nobody releases.
        """
        self._closing = True
        for lease in list(self._held.values()):
            lease.release()
        self._link.close(timeout)
        self._slots.close()


def _limit_path(name: str) -> str:
    if name.startswith(TAG_PREFIX):
        return f"concurrency_limits/tag/{name[len(TAG_PREFIX):]}"
    return f"v2/concurrency_limits/{name}"


def _check_possible(name: str, limit: tuple[int, float], occupy: int, mode: str) -> None:
    if mode == "rate_limit" and limit[1] <= 0:
        raise ConcurrencySlotAcquisitionError(
            f"rate_limit needs a limit with slot decay, and {name!r} has none; "
            "set slot_decay_per_second on it, or use concurrency() instead.")
    if occupy > limit[0]:
        raise ConcurrencySlotAcquisitionError(
            f"Cannot take {occupy} slot(s) of {name!r}: its limit is {limit[0]}, so "
            "the request could never be granted.")


def _settle_error(want: APIRequest, exc: BaseException) -> None:
    if want.withdraw() and want.future is not None and not want.future.done():
        want.future.set_exception(exc)
