# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (a timed-out run is retried)
import time

from prefect import flow, task

calls = []


@task(timeout_seconds=0.1, retries=1, retry_delay_seconds=0)
def t():
    calls.append(1)
    if len(calls) == 1:
        for _ in range(20):
            time.sleep(0.05)
    return "second attempt"


@flow
def f():
    return t()


print(f(), len(calls))
