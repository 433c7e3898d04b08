# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retries re-run a failed task)
from prefect import flow, task

calls = []


@task(retries=2, retry_delay_seconds=0)
def flaky():
    calls.append(1)
    if len(calls) < 3:
        raise ConnectionError("try again")
    return "finally"


@flow
def f():
    return flaky()


print(f(), len(calls))
