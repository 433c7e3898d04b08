# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (a run within its timeout completes)
import time

from prefect import flow, task


@task(timeout_seconds=5)
def quick():
    time.sleep(0.01)
    return "in time"


@flow
def f():
    return quick()


print(f())
