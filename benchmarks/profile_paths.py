"""Profile headwater's per-task paths (direct call, submit, map) with cProfile.

Usage::

    python benchmarks/profile_paths.py direct            # 10,000 direct calls
    python benchmarks/profile_paths.py map --workers     # profile the worker threads instead
    python benchmarks/profile_paths.py submit --sort cumtime --limit 40

cProfile sees only the thread that enables it, so ``--workers`` wraps the
thread pool's job runner to profile each worker thread and merges the stats.
Beware: in threaded profiles, time spent waiting for the GIL is charged to
whichever function was running when the thread had to give it up.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import threading
from collections.abc import Callable
from typing import Any

from bench_plain import inc, triangle

from headwater import flow, task
from headwater._private import runners

inc_task = task(name="inc")(inc)


@flow
def direct_flow(n: int) -> int:
    """``n`` direct calls."""
    return sum(inc_task(i) for i in range(n))


@flow
def submit_flow(n: int) -> int:
    """``n`` submissions, then every result."""
    return sum(f.result() for f in [inc_task.submit(i) for i in range(n)])


@flow
def map_flow(n: int) -> int:
    """One map over ``n`` items."""
    return sum(inc_task.map(range(n)).result())


PATHS: dict[str, Callable[[int], int]] = {
    "direct": direct_flow, "submit": submit_flow, "map": map_flow,
}


def profile_workers(fn: Callable[[int], int], n: int) -> pstats.Stats:
    """Run ``fn(n)`` with every pool worker thread profiled; return the merged stats."""
    profiles: list[cProfile.Profile] = []
    local = threading.local()
    original = runners._run_if_unclaimed

    def profiled(job: Any) -> None:
        profile = getattr(local, "profile", None)
        if profile is None:
            profile = local.profile = cProfile.Profile()
            profiles.append(profile)
        profile.enable()
        try:
            original(job)
        finally:
            profile.disable()

    runners._run_if_unclaimed = profiled
    try:
        fn(n)
    finally:
        runners._run_if_unclaimed = original
    if not profiles:
        raise SystemExit("no task ran on a worker thread (they were all run inline)")
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    return stats


def main() -> None:
    """Profile one path and print the top entries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", choices=list(PATHS))
    parser.add_argument("-n", type=int, default=10_000, help="task runs (default 10,000)")
    parser.add_argument("--workers", action="store_true", help="profile worker threads")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--limit", type=int, default=30, help="rows to print (default 30)")
    args = parser.parse_args()
    fn = PATHS[args.path]
    if fn(100) != triangle(100):  # warm-up: lazy imports, logging set-up
        raise SystemExit("wrong result")
    if args.workers:
        stats = profile_workers(fn, args.n)
    else:
        profile = cProfile.Profile()
        result = profile.runcall(fn, args.n)
        if result != triangle(args.n):
            raise SystemExit("wrong result")
        stats = pstats.Stats(profile)
    stats.sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
