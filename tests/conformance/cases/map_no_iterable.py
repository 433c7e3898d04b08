# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (map needs at least one iterable)
from prefect import flow, task


@task
def add(x, y):
    return x + y


@flow
def f():
    try:
        add.map(1, 2)
    except Exception as exc:
        return type(exc).__name__
    return "no error"


print(f())
