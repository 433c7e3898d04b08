# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (the TimedOut state's message)
import time

from prefect import flow, task


@task(timeout_seconds=0.1)
def slow():
    for _ in range(20):
        time.sleep(0.05)


@flow
def f():
    return slow(return_state=True).message


print(f())
