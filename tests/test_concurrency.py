"""Concurrency limits: SlotManager leases, fairness, expiry, rate limits, public functions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater._private.concurrency import (
    ConcurrencyBackend,
    SlotManager,
    acquire_tag_slots,
    acquire_tag_slots_async,
    request_tag_slots,
    use_slot_manager,
)
from headwater.concurrency import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    delete_concurrency_limit,
    list_concurrency_limits,
    rate_limit,
    rate_limit_async,
    read_concurrency_limit,
    reset_concurrency_limit,
    set_concurrency_limit,
    set_global_concurrency_limit,
)
from headwater.exceptions import InvalidOptionError, ObjectNotFound
from headwater.testing import FakeClock


@pytest.fixture
def manager() -> Iterator[SlotManager]:
    with use_slot_manager(SlotManager()) as m:
        yield m


def _wait_until(predicate: object, seconds: float = 30.0) -> None:  # a hang guard
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_slot_manager_implements_the_backend_protocol() -> None:
    backend: ConcurrencyBackend = SlotManager()
    assert backend.limited_tags == frozenset()


def test_500_acquisitions_16_threads_never_exceed_limit(manager: SlotManager) -> None:
    set_concurrency_limit("db", 3)
    lock = threading.Lock()
    running = peak = 0
    start = threading.Barrier(16)

    def worker() -> None:
        nonlocal running, peak
        start.wait()
        for _ in range(500 // 16 + 1):
            lease = acquire_tag_slots(frozenset({"db", "other"}))
            assert lease is not None
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.0002)
            with lock:
                running -= 1
            lease.release()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak == 3
    info = read_concurrency_limit("db")
    assert info is not None and info.active_slots == 0 and info.waiting == 0


def test_waiters_are_served_in_order(manager: SlotManager) -> None:
    manager.set_limit("w", 1)
    first = manager.acquire(["w"])
    assert first is not None
    order: list[int] = []

    def waiter(i: int) -> None:
        lease = manager.acquire(["w"])
        assert lease is not None
        order.append(i)
        lease.release()

    threads = []
    for i in range(8):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        _wait_until(lambda n=i + 1: manager.read_limit("w").waiting == n)  # type: ignore[union-attr]
    first.release()
    for t in threads:
        t.join(10)
    assert order == list(range(8))


def test_new_request_does_not_barge_past_a_big_waiter(manager: SlotManager) -> None:
    manager.set_limit("w", 3)
    held = manager.acquire(["w"], 2)
    got: list[str] = []
    big = threading.Thread(target=lambda: (manager.acquire(["w"], 3), got.append("big")))
    big.start()
    _wait_until(lambda: manager.read_limit("w").waiting == 1)  # type: ignore[union-attr]
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        manager.acquire(["w"], 1, timeout=0.05)  # 1 slot is free, but the big waiter is first
    assert held is not None
    held.release()
    big.join(5)
    assert got == ["big"]


def test_waiter_wakes_as_soon_as_a_slot_frees(manager: SlotManager) -> None:
    manager.set_limit("w", 1)
    lease = manager.acquire(["w"])
    woke: list[bool] = []

    def waiter() -> None:
        # No timeout and no lease expiry: nothing but the release can wake it.
        woke.append(manager.acquire(["w"]) is not None)

    t = threading.Thread(target=waiter)
    t.start()
    _wait_until(lambda: manager.read_limit("w").waiting == 1)  # type: ignore[union-attr]
    assert lease is not None
    lease.release()
    t.join(5)
    assert woke == [True]


def test_multi_tag_acquisition_is_all_or_nothing(manager: SlotManager) -> None:
    manager.set_limit("tag:a", 1)
    manager.set_limit("tag:b", 1)
    holds_b = manager.acquire(["tag:b"])
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        acquire_tag_slots(frozenset({"a", "b"}), timeout=0.05)
    # The failed request took nothing: "a" is still free.
    assert manager.read_limit("tag:a").active_slots == 0  # type: ignore[union-attr]
    lease_a = acquire_tag_slots(frozenset({"a"}), timeout=0.05)
    assert lease_a is not None
    lease_a.release()
    assert holds_b is not None
    holds_b.release()
    both = acquire_tag_slots(frozenset({"a", "b"}), timeout=1)
    assert both is not None and both.names == ("tag:a", "tag:b")


def test_opposite_tag_orders_do_not_deadlock(manager: SlotManager) -> None:
    manager.set_limit("tag:a", 1)
    manager.set_limit("tag:b", 1)

    def worker(tags: frozenset[str]) -> None:
        for _ in range(200):
            lease = acquire_tag_slots(tags)
            assert lease is not None
            lease.release()

    threads = [threading.Thread(target=worker, args=(frozenset(t),))
               for t in (["a", "b"], ["b", "a"], ["a"], ["b"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
        assert not t.is_alive()


def test_lease_expiry_with_a_fake_clock() -> None:
    clock = FakeClock()
    manager = SlotManager(clock=clock)
    manager.set_limit("w", 1)
    lease = manager.acquire(["w"], lease_duration=30)
    assert lease is not None and lease.expires_at == 30
    clock.sleep(20)
    assert lease.renew()
    clock.sleep(20)  # 40 < 20 + 30: still held
    assert manager.read_limit("w").active_slots == 1  # type: ignore[union-attr]
    # A waiter sleeps (on the fake clock) until the lease lapses, then gets the slot.
    second = manager.acquire(["w"], timeout=5)
    assert second is not None and clock.monotonic() == 50
    assert lease.released and not lease.renew()
    lease.release()  # a lapsed lease's release is a no-op
    assert manager.read_limit("w").active_slots == 1  # type: ignore[union-attr]


def test_expired_leases_are_reclaimed_on_inspection() -> None:
    clock = FakeClock()
    manager = SlotManager(clock=clock)
    manager.set_limit("w", 2)
    manager.acquire(["w"], 2, lease_duration=5)
    clock.sleep(5)
    assert manager.read_limit("w").active_slots == 0  # type: ignore[union-attr]


def test_rate_limit_decay_with_a_fake_clock(manager: SlotManager) -> None:
    clock = FakeClock()
    decaying = SlotManager(clock=clock)
    decaying.set_limit("api", 2, slot_decay_per_second=0.5)
    with use_slot_manager(decaying):
        rate_limit("api")
        rate_limit("api")
        assert clock.sleeps == []
        rate_limit("api")  # full: waits 2 s for one slot to decay
        assert clock.sleeps == [2.0]
        info = decaying.read_limit("api")
        assert info is not None and info.decaying_slots == pytest.approx(2.0)
        clock.sleep(4)
        assert decaying.read_limit("api").decaying_slots == 0  # type: ignore[union-attr]


def test_rate_limit_needs_decay(manager: SlotManager) -> None:
    set_global_concurrency_limit("plain", 3)
    with pytest.raises(ConcurrencySlotAcquisitionError, match="slot decay"):
        rate_limit("plain")


@pytest.mark.anyio
async def test_rate_limit_async_with_a_fake_clock() -> None:
    clock = FakeClock()
    decaying = SlotManager(clock=clock)
    decaying.set_limit("api", 1, slot_decay_per_second=4)
    with use_slot_manager(decaying):
        await rate_limit_async("api")
        await rate_limit_async("api")
    assert clock.sleeps == [0.25]


def test_names_without_limits_cost_nothing(manager: SlotManager) -> None:
    assert acquire_tag_slots(frozenset()) is None
    assert acquire_tag_slots(frozenset({"db"})) is None
    assert request_tag_slots(frozenset({"db"}), lambda lease: None) is None
    with concurrency("nothing-here", occupy=5) as lease:
        assert lease is None
    rate_limit("nothing-here")
    assert manager.list_limits() == []


def test_tags_without_a_limit_take_no_slot(manager: SlotManager) -> None:
    # What this fast path costs is measured by benchmarks/bench_concurrency.py (untagged).
    set_concurrency_limit("db", 1)
    assert acquire_tag_slots(frozenset({"etl", "nightly"})) is None
    assert manager.read_limit("tag:db").active_slots == 0  # type: ignore[union-attr]


def test_occupy_above_the_limit_fails_fast(manager: SlotManager) -> None:
    set_concurrency_limit("zero", 0)
    with pytest.raises(ConcurrencySlotAcquisitionError, match="limit is 0"):
        acquire_tag_slots(frozenset({"zero"}))
    set_global_concurrency_limit("small", 1)
    with pytest.raises(ConcurrencySlotAcquisitionError), concurrency("small", occupy=2):
        pass


def test_concurrency_releases_on_error(manager: SlotManager) -> None:
    set_global_concurrency_limit("warehouse", 2)
    with pytest.raises(RuntimeError), concurrency("warehouse", occupy=2):
        assert manager.read_limit("warehouse").active_slots == 2  # type: ignore[union-attr]
        raise RuntimeError("boom")
    assert manager.read_limit("warehouse").active_slots == 0  # type: ignore[union-attr]


def test_concurrency_timeout(manager: SlotManager) -> None:
    set_global_concurrency_limit("w", 1)
    with concurrency("w"), pytest.raises(TimeoutError), concurrency("w", timeout_seconds=0.05):
        pass


def test_strict_raises_for_missing_names(manager: SlotManager) -> None:
    with pytest.raises(ConcurrencySlotAcquisitionError, match="strict"), concurrency(
            "missing", strict=True):
        pass


@pytest.mark.anyio
async def test_async_with_concurrency_waits_without_blocking_the_loop(
        manager: SlotManager) -> None:
    set_global_concurrency_limit("w", 1)
    order: list[str] = []

    async def job(name: str) -> None:
        async with concurrency("w"):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(job("a"), job("b"), job("c"))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]


@pytest.mark.anyio
async def test_async_waiter_woken_by_a_release_from_another_thread(
        manager: SlotManager) -> None:
    set_concurrency_limit("db", 1)
    lease = acquire_tag_slots(frozenset({"db"}))
    assert lease is not None
    threading.Timer(0.02, lease.release).start()
    second = await acquire_tag_slots_async(frozenset({"db"}), timeout=5)
    assert second is not None
    second.release()


@pytest.mark.anyio
async def test_cancelled_async_waiter_leaves_the_queue(manager: SlotManager) -> None:
    set_concurrency_limit("db", 1)
    lease = acquire_tag_slots(frozenset({"db"}))
    waiter = asyncio.ensure_future(acquire_tag_slots_async(frozenset({"db"})))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert read_concurrency_limit("db").waiting == 0  # type: ignore[union-attr]
    assert lease is not None
    lease.release()
    assert read_concurrency_limit("db").active_slots == 0  # type: ignore[union-attr]


def test_request_calls_back_when_granted(manager: SlotManager) -> None:
    set_concurrency_limit("db", 1)
    granted: list[object] = []
    first = request_tag_slots(frozenset({"db"}), granted.append)
    assert first is not None and len(granted) == 1  # free now: called at once
    second = request_tag_slots(frozenset({"db"}), granted.append)
    assert second is not None and not second.done and len(granted) == 1
    first.lease.release()  # type: ignore[union-attr]
    assert len(granted) == 2 and second.done
    third = request_tag_slots(frozenset({"db"}), granted.append)
    assert third is not None and third.cancel()
    assert not second.cancel()  # granted already


def test_manage_tag_limits(manager: SlotManager) -> None:
    set_concurrency_limit("db", 2)
    lease = acquire_tag_slots(frozenset({"db"}), holder="run-1")
    info = read_concurrency_limit("db")
    assert info is not None
    assert (info.tag, info.concurrency_limit, info.active_slots, info.holders) == (
        "db", 2, 1, ("run-1",))
    assert [lim.tag for lim in list_concurrency_limits()] == ["db"]
    reset_concurrency_limit("db")
    assert read_concurrency_limit("db").active_slots == 0  # type: ignore[union-attr]
    assert lease is not None
    lease.release()  # after a reset: harmless
    delete_concurrency_limit("db")
    assert read_concurrency_limit("db") is None
    with pytest.raises(ObjectNotFound):
        delete_concurrency_limit("db")
    with pytest.raises(ValueError):
        set_concurrency_limit("db", -1)


def test_deleting_a_limit_lets_waiters_go(manager: SlotManager) -> None:
    set_concurrency_limit("db", 1)
    acquire_tag_slots(frozenset({"db"}))
    results: list[object] = []
    t = threading.Thread(target=lambda: results.append(acquire_tag_slots(frozenset({"db"}))))
    t.start()
    _wait_until(lambda: read_concurrency_limit("db").waiting == 1)  # type: ignore[union-attr]
    delete_concurrency_limit("db")
    t.join(5)
    assert results == [None]


def test_raising_a_limit_grants_waiters(manager: SlotManager) -> None:
    set_concurrency_limit("db", 1)
    acquire_tag_slots(frozenset({"db"}))
    t = threading.Thread(target=lambda: acquire_tag_slots(frozenset({"db"})))
    t.start()
    _wait_until(lambda: read_concurrency_limit("db").waiting == 1)  # type: ignore[union-attr]
    set_concurrency_limit("db", 2)
    t.join(5)
    assert read_concurrency_limit("db").active_slots == 2  # type: ignore[union-attr]


def test_limits_file_is_loaded_on_first_use(tmp_path: object, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    from pathlib import Path

    from headwater._private.concurrency import get_slot_manager, reset_slot_manager
    from headwater._private.concurrency.store import FILE_NAME, save_limits

    home = Path(str(tmp_path))
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    monkeypatch.setenv("HEADWATER_API_ENABLE_RECORDING", "false")  # the file's limits apply
    save_limits(home / FILE_NAME, {"tag:db": (2, 0.0), "api": (5, 1.0)})
    reset_slot_manager()
    try:
        assert get_slot_manager().limited_tags == frozenset({"db"})
        assert read_concurrency_limit("db").limit == 2  # type: ignore[union-attr]
    finally:
        reset_slot_manager()


_BAD_OCCUPY = st.one_of(st.integers(max_value=0), st.booleans(), st.floats(allow_nan=True),
                        st.text(max_size=3), st.none())
_BAD_TIMEOUT = st.one_of(st.floats(max_value=-1e-9), st.just(float("nan")), st.booleans(),
                         st.text(max_size=3))
_BAD_LEASE = st.one_of(st.floats(max_value=0.0), st.floats(min_value=86_400.001),
                       st.just(float("nan")), st.booleans(), st.text(max_size=3))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(occupy=_BAD_OCCUPY, timeout=_BAD_TIMEOUT, lease=_BAD_LEASE,
       which=st.sampled_from(["occupy", "timeout_seconds", "lease_duration"]))
def test_arguments_no_limit_could_grant_are_refused_at_the_call(
        manager: SlotManager, occupy: object, timeout: object, lease: object, which: str) -> None:
    # A lease of more than a day was refused by the API and retried forever;
    # occupy=0 or a negative timeout made no sense either. Now: an error at
    # once that names the argument, before any waiting.
    manager.set_limit("warehouse", 2)
    good: dict[str, object] = {"occupy": 1, "timeout_seconds": 1.0, "lease_duration": 30.0}
    bad = dict(good, **{which: {"occupy": occupy, "timeout_seconds": timeout,
                                "lease_duration": lease}[which]})
    with pytest.raises(InvalidOptionError, match=which):
        concurrency("warehouse", **bad)  # type: ignore[arg-type]
    if which != "lease_duration":
        rate_args = {k: v for k, v in bad.items() if k != "lease_duration"}
        with pytest.raises(InvalidOptionError, match=which):
            rate_limit("warehouse", **rate_args)  # type: ignore[arg-type]
    with concurrency("warehouse", **good) as lease_held:  # type: ignore[arg-type]
        assert lease_held is not None  # the good ones still work
