# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (iterables of different lengths are an error)
from prefect import flow, task


@task
def add(x, y):
    return x + y


@flow
def f():
    try:
        add.map([1, 2, 3], [1, 2])
    except Exception as exc:
        return type(exc).__name__
    return "no error"


print(f())
