# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (calling a task in a flow returns its result)
from prefect import flow, task


@task
def square(x):
    return x * x


@flow
def f():
    return square(7)


print(f())
