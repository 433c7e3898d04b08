"""Cost of one ``logger.info`` inside a task, with the API log handler on and off.

Run: ``python benchmarks/bench_logging.py``. The console handler is raised to
ERROR so that terminal I/O does not hide the handler's own cost; records go to
an in-memory sink. Target: under 10 us per call with the handler on.
"""

from __future__ import annotations

import os
import statistics
import time

N = 50_000
ROUNDS = 5


def measure(api_enabled: bool) -> float:
    """Return the median microseconds per ``logger.info`` over ``ROUNDS`` rounds."""
    from headwater import flow, get_run_logger, task
    from headwater._private.logging_config import setup_logging
    from headwater._private.run_logging import ensure_logging_configured
    from headwater.logging.handlers import InMemoryLogSink, flush_logs, set_default_log_sink
    from headwater.settings import temporary_settings

    timings: list[float] = []

    @task
    def chatty() -> None:
        logger = get_run_logger()
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for i in range(N):
                logger.info("record %d", i)
            timings.append((time.perf_counter() - start) / N * 1e6)
            flush_logs()

    @flow
    def bench() -> None:
        chatty()

    ensure_logging_configured()
    sink = InMemoryLogSink()
    set_default_log_sink(sink)
    with temporary_settings(HEADWATER_LOGGING_TO_API_ENABLED=api_enabled,
                            HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL="ERROR"):
        setup_logging(force=True)
        bench()
    flush_logs()
    shipped = sum(1 for r in sink.records if r["message"].startswith("record"))
    assert shipped == (N * ROUNDS if api_enabled else 0), shipped
    return statistics.median(timings)


def main() -> None:
    """Print the cost per call with the API handler off and on."""
    os.environ.setdefault("HEADWATER_HOME", "/tmp/headwater-bench-logging")
    off = measure(api_enabled=False)
    on = measure(api_enabled=True)
    print(f"logger.info inside a task, API handler off: {off:6.2f} us/call")
    print(f"logger.info inside a task, API handler on:  {on:6.2f} us/call "
          f"(+{on - off:.2f} us; target < 10 us)")


if __name__ == "__main__":
    main()
