# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retries apply to submitted runs)
from prefect import flow, task

calls = []


@task(retries=1, retry_delay_seconds=0)
def t():
    calls.append(1)
    if len(calls) < 2:
        raise ValueError("x")
    return "second time"


@flow
def f():
    return t.submit().result()


print(f(), len(calls))
