# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (no retries by default)
from prefect import flow, task

calls = []


@task
def bad():
    calls.append(1)
    raise ValueError("once")


@flow
def f():
    return bad(return_state=True).name


print(f(), len(calls))
