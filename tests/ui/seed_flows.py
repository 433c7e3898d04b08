"""Flows the UI tests record: run as a script with HEADWATER_HOME set.

Records, in the embedded database of that home: an ETL-like flow with mapped
tasks, a task that fails twice then succeeds (retries, with a wait between
attempts), a subflow, logs at several levels, and a flow run that fails.
"""

from __future__ import annotations

import sys

from headwater import flow, get_run_logger, task

_calls = {"flaky": 0}


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def double(x: int) -> int:
    return 2 * x


@task(retries=2, retry_delay_seconds=0.2)
def flaky() -> str:
    _calls["flaky"] += 1
    get_run_logger().warning("flaky attempt %d", _calls["flaky"])
    if _calls["flaky"] < 3:
        raise ConnectionError("service unavailable, try again")
    return "ok"


@flow
def publish_report(rows: int) -> str:
    get_run_logger().info("publishing %d rows", rows)
    return "report"


@flow(name="nightly-etl")
def nightly_etl(n: int = 12, region: str = "eu") -> str:
    logger = get_run_logger()
    logger.debug("starting with n=%d", n)
    values = extract(n)
    logger.info("Extracted %d values", len(values))
    doubled = double.map(values).result()
    flaky()
    publish_report(len(doubled))
    logger.error("an error line, for the level filter")
    return "done"


@task
def divide(x: int) -> float:
    return 1 / x


@flow(name="broken-flow")
def broken_flow() -> float:
    return divide(0)


if __name__ == "__main__":
    nightly_etl()
    broken_flow(return_state=True)
    sys.exit(0)
