# Source: https://docs-2.prefect.io/latest/concepts/states/ (a completed task state has no message)
from prefect import flow, task


@task
def ok():
    return 1


@flow
def f():
    s = ok(return_state=True)
    return s.message, s.name


print(f())
