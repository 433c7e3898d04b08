"""The headwater side of each workload: flows doing the work of ``bench_plain``'s baselines.

Every function takes the workload size ``n``, runs a flow with headwater's
default configuration (default task runner, logs to stderr), checks the
results and raises :class:`bench_plain.WorkloadError` if they are wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bench_plain import (
    SUBFLOW_TASKS,
    blob,
    check,
    check_blob,
    check_flaky,
    empty,
    flaky,
    inc,
    nap,
    nap_async,
    reset_flaky,
    triangle,
)

from headwater import HeadwaterFuture, flow, task

inc_task = task(name="inc")(inc)
nap_task = task(name="nap")(nap)
nap_async_task = task(name="nap_async")(nap_async)
blob_task = task(name="blob")(blob)
flaky_task = task(name="flaky", retries=2, retry_delay_seconds=0)(flaky)


# ---------------------------------------------------------------------- flows
@flow
def direct_flow(n: int) -> int:
    """Call the trivial task ``n`` times directly."""
    total = 0
    for i in range(n):
        total += inc_task(i)
    return total


@flow
def submit_flow(n: int) -> int:
    """Submit the trivial task ``n`` times, then collect every result."""
    futures = [inc_task.submit(i) for i in range(n)]
    return sum(f.result() for f in futures)


@flow
def map_flow(n: int) -> int:
    """Map the trivial task over ``n`` items."""
    return sum(inc_task.map(range(n)).result())


@flow
async def async_gather_flow(n: int) -> int:
    """Run ``n`` async tasks concurrently with ``asyncio.gather`` of direct calls."""
    return sum(await asyncio.gather(*(nap_async_task(i) for i in range(n))))


@flow
def chain_flow(n: int) -> int:
    """Submit ``n`` tasks, each given the previous one's future."""
    future: HeadwaterFuture[int] = inc_task.submit(0)
    for _ in range(n - 1):
        future = inc_task.submit(future)  # type: ignore[arg-type]
    return future.result()


@flow
def fanout_sleep_flow(n: int) -> int:
    """Submit ``n`` tasks each sleeping 100 ms in its thread."""
    futures = [nap_task.submit(i) for i in range(n)]
    return sum(f.result() for f in futures)


@flow
def memory_flow(n: int) -> int:
    """Call a task returning 2 MB ``n`` times, dropping each result at once."""
    for i in range(n):
        data = blob_task(i)
        check_blob(i, data)
        del data
    return n


@flow
def sub_flow(k: int) -> int:
    """A subflow of ten direct task calls."""
    return sum(inc_task(k * SUBFLOW_TASKS + j) for j in range(SUBFLOW_TASKS))


@flow
def subflows_flow(n: int) -> int:
    """Call ``n`` subflows."""
    return sum(sub_flow(k) for k in range(n))


@flow
def retries_flow(n: int) -> int:
    """Call a task that fails twice then succeeds, ``n`` times directly."""
    return sum(flaky_task(i) for i in range(n))


# ---------------------------------------------------------------------- workloads
def direct(n: int) -> None:
    """A sync flow making ``n`` direct calls of a trivial task."""
    total = direct_flow(n)
    check(total == triangle(n), f"direct: sum {total} != {triangle(n)}")


def submit(n: int) -> None:
    """A sync flow submitting ``n`` trivial tasks and collecting results."""
    total = submit_flow(n)
    check(total == triangle(n), f"submit: sum {total} != {triangle(n)}")


def map_items(n: int) -> None:
    """A sync flow mapping a trivial task over ``n`` items."""
    total = map_flow(n)
    check(total == triangle(n), f"map: sum {total} != {triangle(n)}")


def async_gather(n: int) -> None:
    """An async flow gathering ``n`` async tasks that sleep 10 ms."""
    total = asyncio.run(async_gather_flow(n))
    check(total == n * (n - 1) // 2, f"async_gather: sum {total} != {n * (n - 1) // 2}")


def chain(n: int) -> None:
    """``n`` submitted tasks, each taking the previous future as its argument."""
    value = chain_flow(n)
    check(value == n, f"chain: end value {value} != {n}")


def fanout_sleep(n: int) -> None:
    """``n`` submitted tasks each sleeping 100 ms."""
    total = fanout_sleep_flow(n)
    check(total == n * (n - 1) // 2, f"fanout_sleep: sum {total} != {n * (n - 1) // 2}")


def memory(n: int) -> None:
    """``n`` direct calls of a task returning 2 MB, each result dropped at once."""
    count = memory_flow(n)
    check(count == n, f"memory: flow returned {count}, expected {n}")


def subflows(n: int) -> None:
    """``n`` subflows of ten direct task calls each."""
    total = subflows_flow(n)
    expected = triangle(n * SUBFLOW_TASKS)
    check(total == expected, f"subflows: sum {total} != {expected}")


def retries(n: int) -> None:
    """``n`` direct calls of a task that succeeds on its third attempt."""
    reset_flaky()
    total = retries_flow(n)
    check_flaky(n, total)


empty_flow = flow(name="empty")(empty)


def flow_runs(n: int) -> None:
    """``n`` top-level runs of an empty flow, each recorded end to end (stored at its end)."""
    total = sum(empty_flow() for _ in range(n))
    check(total == n, f"flow_runs: {total} != {n}")


WORKLOADS: dict[str, Callable[[int], None]] = {
    "direct": direct,
    "submit": submit,
    "map": map_items,
    "async_gather": async_gather,
    "chain": chain,
    "fanout_sleep": fanout_sleep,
    "memory": memory,
    "subflows": subflows,
    "retries": retries,
    "flow_runs": flow_runs,
}
