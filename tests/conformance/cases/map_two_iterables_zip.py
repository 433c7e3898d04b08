# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (several iterables are zipped)
from prefect import flow, task


@task
def add(x, y):
    return x + y


@flow
def f():
    return [x.result() for x in add.map([1, 2, 3], [10, 20, 30])]


print(f())
