# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (tasks called outside a flow, calling tasks, since 2.18)
from prefect import task


@task
def inner(x):
    return x + 1


@task
def outer(x):
    return inner(x) * 10


print(outer(1))
