# Source: https://docs-2.prefect.io/latest/concepts/tasks/#custom-retry-behavior (retry_delay_seconds as a list)
from prefect import flow, task

calls = []


@task(retries=2, retry_delay_seconds=[0, 0])
def t():
    calls.append(1)
    if len(calls) < 3:
        raise ValueError("x")
    return "ok"


@flow
def f():
    return t()


print(f(), len(calls), t.retry_delay_seconds)
