"""Task and flow retries, with a fake clock so nothing really sleeps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import flow, runtime, task
from headwater.exceptions import InvalidOptionError
from headwater.tasks import exponential_backoff
from headwater.testing import FakeClock, use_clock


def failing_task(failures: int, **options):
    """A task that fails ``failures`` times, then returns its run count."""

    @task(**options)
    def flaky() -> int:
        if runtime.task_run.run_count <= failures:
            raise ValueError(f"failure {runtime.task_run.run_count}")
        return runtime.task_run.run_count

    return flaky


def run(task_, clock: FakeClock):
    @flow
    def wrapper():
        return task_(return_state=True)

    with use_clock(clock):
        # The flow's result is the task run's State (as in Prefect 2).
        return wrapper(return_state=True).result(raise_on_failure=False)


def test_fixed_delay() -> None:
    clock = FakeClock()
    state = run(failing_task(2, retries=3, retry_delay_seconds=10), clock)
    assert state.result() == 3
    assert clock.sleeps == [10.0, 10.0]


def test_retries_exhausted() -> None:
    clock = FakeClock()
    state = run(failing_task(10, retries=3, retry_delay_seconds=1), clock)
    assert state.is_failed()
    assert clock.sleeps == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="failure 4"):
        state.result()


def test_list_delays_repeat_the_last() -> None:
    clock = FakeClock()
    run(failing_task(10, retries=5, retry_delay_seconds=[1, 2, 3]), clock)
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_exponential_backoff() -> None:
    clock = FakeClock()
    run(failing_task(10, retries=4, retry_delay_seconds=exponential_backoff(10)), clock)
    assert clock.sleeps == [10.0, 20.0, 40.0, 80.0]


def test_exponential_backoff_values() -> None:
    assert exponential_backoff(2)(3) == [2, 4, 8]
    with pytest.raises(InvalidOptionError, match="backoff_factor"):
        exponential_backoff(-1)


def test_zero_delay_does_not_sleep() -> None:
    clock = FakeClock()
    state = run(failing_task(2, retries=2), clock)
    assert state.result() == 3
    assert clock.sleeps == []


def test_no_retries_by_default() -> None:
    clock = FakeClock()
    state = run(failing_task(1), clock)
    assert state.is_failed()
    assert clock.sleeps == []


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 100), st.floats(0.01, 1.0), st.integers(0, 2**16))
def test_jitter_stays_within_bounds(delay: float, factor: float, seed: int) -> None:
    clock = FakeClock(seed=seed)
    run(failing_task(10, retries=4, retry_delay_seconds=delay, retry_jitter_factor=factor),
        clock)
    assert len(clock.sleeps) == 4
    for slept in clock.sleeps:
        assert delay * (1 - factor) - 1e-9 <= slept <= delay * (1 + factor) + 1e-9


def test_jitter_varies_delays() -> None:
    clock = FakeClock(seed=1)
    run(failing_task(10, retries=6, retry_delay_seconds=10, retry_jitter_factor=0.5), clock)
    assert len(set(clock.sleeps)) > 1


def test_retry_condition_fn_stops_retries() -> None:
    calls = []

    def only_value_errors(task_, task_run, state) -> bool:
        calls.append((task_.name, task_run.run_count, state.is_failed()))
        return isinstance(state.result(raise_on_failure=False), ValueError)

    @task(retries=5, retry_condition_fn=only_value_errors)
    def raises_type_error_second() -> None:
        if runtime.task_run.run_count == 1:
            raise ValueError("retry me")
        raise TypeError("do not retry me")

    clock = FakeClock()
    state = run(raises_type_error_second, clock)
    with pytest.raises(TypeError):
        state.result()
    assert calls == [("raises_type_error_second", 1, True),
                     ("raises_type_error_second", 2, True)]


def test_retry_condition_fn_that_raises_means_no_retry(run_logs) -> None:
    def broken(task_, task_run, state) -> bool:
        raise RuntimeError("condition broke")

    clock = FakeClock()
    state = run(failing_task(1, retries=3, retry_condition_fn=broken), clock)
    assert state.is_failed()
    assert any("retry_condition_fn raised" in r.getMessage() for r in run_logs.records)


def test_retry_is_logged(run_logs) -> None:
    run(failing_task(1, retries=2, retry_delay_seconds=7), FakeClock())
    messages = [r.getMessage() for r in run_logs.records]
    assert any("Retry 1/2 will start 7 second(s) from now" in m for m in messages)


@pytest.mark.anyio
async def test_async_task_retries_use_the_clock() -> None:
    @task(retries=2, retry_delay_seconds=[3, 4])
    async def flaky() -> int:
        if runtime.task_run.run_count < 3:
            raise ValueError("again")
        return runtime.task_run.run_count

    @flow
    async def wrapper() -> int:
        return await flaky()

    clock = FakeClock()
    with use_clock(clock):
        assert await wrapper() == 3
    assert clock.sleeps == [3.0, 4.0]


def test_flow_retries() -> None:
    attempts = []

    @flow(retries=2, retry_delay_seconds=5)
    def flaky() -> int:
        attempts.append(runtime.flow_run.run_count)
        if len(attempts) < 3:
            raise ValueError("flow failure")
        return len(attempts)

    clock = FakeClock()
    with use_clock(clock):
        assert flaky() == 3
    assert attempts == [1, 2, 3]
    assert clock.sleeps == [5.0, 5.0]


def test_flow_retry_forgets_failed_children_of_earlier_attempts() -> None:
    @task
    def maybe_fail(attempt: int) -> None:
        if attempt == 1:
            raise ValueError("first attempt")

    @flow(retries=1)
    def f() -> None:
        maybe_fail(runtime.flow_run.run_count)

    with use_clock(FakeClock()):
        state = f(return_state=True)
    assert state.is_completed()


def test_fake_clock_records_and_advances() -> None:
    clock = FakeClock(start=100.0)
    clock.sleep(2.5)
    assert clock.monotonic() == 102.5
    assert clock.sleeps == [2.5]
    assert 0 <= clock.random() < 1
    assert FakeClock(seed=3).random() == FakeClock(seed=3).random()


def test_flow_retry_reuses_completed_task_runs() -> None:
    calls: list[str] = []
    attempts: list[int] = []
    ids: list[object] = []

    @task
    def once(x: int) -> int:
        calls.append(f"once{x}")
        return x * 10

    @task
    def flaky() -> int:
        calls.append("flaky")
        if len(attempts) < 2:
            raise ValueError("not yet")
        return 1

    @flow(retries=1)
    def f() -> int:
        attempts.append(1)
        a = once(1)
        b = once.submit(2)
        ids.append(b.task_run_id)
        return a + b.result() + flaky()

    assert f() == 31
    # once(1) and once(2) completed in the first attempt: reused, not run again.
    assert sorted(calls) == ["flaky", "flaky", "once1", "once2"]
    assert calls.count("once1") == calls.count("once2") == 1
    assert ids[0] == ids[1]  # the same task run, as in Prefect 2


def test_flow_without_retries_keeps_no_completed_runs() -> None:
    from headwater._private.context import flow_run_ctx

    kept: list[object] = []

    @task
    def t() -> int:
        return 1

    @flow
    def f() -> None:
        t()
        ctx = flow_run_ctx.get()
        assert ctx is not None
        kept.append(ctx._tracker._completed)

    f()
    assert kept == [None]
