# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (with_options(retries=...))
from prefect import flow, task

calls = []


@task
def t():
    calls.append(1)
    if len(calls) < 2:
        raise ValueError("x")
    return "ok"


@flow
def f():
    return t.with_options(retries=1, retry_delay_seconds=0)()


print(f(), len(calls))
