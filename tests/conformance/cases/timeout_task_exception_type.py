# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (a timed-out task raises a TimeoutError)
# deliberate-difference: docs/migration.md#errors-are-more-specific-subclasses
import time

from prefect import flow, task


@task(timeout_seconds=0.1)
def slow():
    for _ in range(20):
        time.sleep(0.05)


@flow
def f():
    exc = slow(return_state=True).result(raise_on_failure=False)
    return type(exc).__name__, isinstance(exc, TimeoutError)


print(f())
