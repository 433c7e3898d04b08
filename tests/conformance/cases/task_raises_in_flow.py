# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (a task's exception propagates through a direct call)
from prefect import flow, task


@task
def bad():
    raise ZeroDivisionError("div by zero")


@flow
def f():
    try:
        bad()
    except ZeroDivisionError as exc:
        return f"caught {exc}"


print(f())
