# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (a task past timeout_seconds fails as TimedOut)
import time

from prefect import flow, task


@task(timeout_seconds=0.1)
def slow():
    for _ in range(20):
        time.sleep(0.05)
    return "late"


@flow
def f():
    s = slow(return_state=True)
    return s.type.value, s.name


print(f())
