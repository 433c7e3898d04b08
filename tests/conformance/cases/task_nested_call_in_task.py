# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (a task can call another task's .fn)
from prefect import flow, task


@task
def inner(x):
    return x + 1


@task
def outer(x):
    return inner.fn(x) * 10


@flow
def f():
    return outer(1)


print(f())
