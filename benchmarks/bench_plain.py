"""Plain-Python baselines: the same work as each headwater workload, without headwater.

Every function takes the workload size ``n``, does the work, checks the
results and raises :class:`WorkloadError` if they are wrong. Concurrent
workloads use ``concurrent.futures.ThreadPoolExecutor`` with 100 workers,
which is what headwater's default ``ThreadPoolTaskRunner`` is built on, so the
overhead column measures headwater's bookkeeping rather than threading itself.

This module must not import headwater: the runner measures the baseline's
peak RSS before headwater is imported.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

POOL_WORKERS = 100
"""Thread pool size, matching headwater's default ``ThreadPoolTaskRunner``."""

BLOB_SIZE = 2_000_000
"""Bytes returned by each call of the memory workload."""

SUBFLOW_TASKS = 10
"""Direct task calls inside each subflow."""

ASYNC_SLEEP = 0.01
THREAD_SLEEP = 0.1


class WorkloadError(RuntimeError):
    """A workload produced wrong results: the benchmark numbers would be meaningless."""


def check(ok: bool, message: str) -> None:
    """Raise :class:`WorkloadError` with ``message`` unless ``ok`` (unlike ``assert``, never
    stripped by ``python -O``)."""
    if not ok:
        raise WorkloadError(message)


def triangle(n: int) -> int:
    """Return ``1 + 2 + ... + n``: the sum of ``inc(i)`` for ``i in range(n)``."""
    return n * (n + 1) // 2


# ---------------------------------------------------------------------- shared task bodies
def inc(x: int) -> int:
    """The trivial task body: add one."""
    return x + 1


def nap(i: int) -> int:
    """Sleep in the calling thread, then return ``i``."""
    time.sleep(THREAD_SLEEP)
    return i


async def nap_async(i: int) -> int:
    """Sleep on the event loop, then return ``i``."""
    await asyncio.sleep(ASYNC_SLEEP)
    return i


def blob(i: int) -> bytes:
    """Return 2 MB whose every byte is ``i % 256`` (pages are touched, so RSS sees them)."""
    return bytes((i % 256,)) * BLOB_SIZE


def check_blob(i: int, data: bytes) -> None:
    """Check that ``data`` is what ``blob(i)`` returns."""
    check(len(data) == BLOB_SIZE and data[0] == data[-1] == i % 256,
          f"blob {i} came back wrong ({len(data)} bytes)")


_attempts: dict[int, int] = {}


def reset_flaky() -> None:
    """Forget attempt counts (before each repetition of the retries workload)."""
    _attempts.clear()


def flaky(i: int) -> int:
    """Fail on the first two attempts for ``i``; return ``i`` on the third."""
    count = _attempts[i] = _attempts.get(i, 0) + 1
    if count < 3:
        raise ValueError(f"attempt {count} for item {i} fails on purpose")
    return i


def check_flaky(n: int, total: int) -> None:
    """Check the retries workload: every item took exactly three attempts."""
    check(total == n * (n - 1) // 2, f"retries: sum {total} != {n * (n - 1) // 2}")
    check(len(_attempts) == n and set(_attempts.values()) == {3},
          f"retries: attempt counts wrong: {sorted(set(_attempts.values()))}")


# ---------------------------------------------------------------------- workloads
def direct(n: int) -> None:
    """``n`` direct calls of ``inc``."""
    total = 0
    for i in range(n):
        total += inc(i)
    check(total == triangle(n), f"direct: sum {total} != {triangle(n)}")


def submit(n: int) -> None:
    """``n`` submissions of ``inc`` to a thread pool, then collect the results."""
    with ThreadPoolExecutor(POOL_WORKERS) as pool:
        futures = [pool.submit(inc, i) for i in range(n)]
        total = sum(f.result() for f in futures)
    check(total == triangle(n), f"submit: sum {total} != {triangle(n)}")


def map_items(n: int) -> None:
    """``inc`` mapped over ``n`` items on a thread pool."""
    with ThreadPoolExecutor(POOL_WORKERS) as pool:
        futures = [pool.submit(inc, i) for i in range(n)]
        total = sum(f.result() for f in futures)
    check(total == triangle(n), f"map: sum {total} != {triangle(n)}")


def async_gather(n: int) -> None:
    """``n`` coroutines each sleeping 10 ms, run concurrently with ``asyncio.gather``."""

    async def main() -> int:
        return sum(await asyncio.gather(*(nap_async(i) for i in range(n))))

    total = asyncio.run(main())
    check(total == n * (n - 1) // 2, f"async_gather: sum {total} != {n * (n - 1) // 2}")


def chain(n: int) -> None:
    """``n`` pool submissions, each fed the previous one's result."""
    value = 0
    with ThreadPoolExecutor(POOL_WORKERS) as pool:
        for _ in range(n):
            value = pool.submit(inc, value).result()
    check(value == n, f"chain: end value {value} != {n}")


def fanout_sleep(n: int) -> None:
    """``n`` pool submissions each sleeping 100 ms."""
    with ThreadPoolExecutor(POOL_WORKERS) as pool:
        futures = [pool.submit(nap, i) for i in range(n)]
        total = sum(f.result() for f in futures)
    check(total == n * (n - 1) // 2, f"fanout_sleep: sum {total} != {n * (n - 1) // 2}")


def memory(n: int) -> None:
    """``n`` calls returning 2 MB each, each result dropped at once."""
    for i in range(n):
        data = blob(i)
        check_blob(i, data)
        del data


def _sub(k: int) -> int:
    return sum(inc(k * SUBFLOW_TASKS + j) for j in range(SUBFLOW_TASKS))


def subflows(n: int) -> None:
    """``n`` nested function calls of ten ``inc`` calls each."""
    total = sum(_sub(k) for k in range(n))
    expected = triangle(n * SUBFLOW_TASKS)
    check(total == expected, f"subflows: sum {total} != {expected}")


def _with_retries(fn: Callable[[int], int], arg: int, retries: int) -> int:
    for attempt in range(retries + 1):
        try:
            return fn(arg)
        except Exception:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


def retries(n: int) -> None:
    """``n`` calls of ``flaky`` retried up to twice each (three attempts)."""
    reset_flaky()
    total = sum(_with_retries(flaky, i, 2) for i in range(n))
    check_flaky(n, total)


def empty() -> int:
    """The body of an empty flow."""
    return 1


def flow_runs(n: int) -> None:
    """``n`` calls of a function that does nothing."""
    total = sum(empty() for _ in range(n))
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
