# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (unmapped passes a value whole)
from prefect import flow, task, unmapped


@task
def add(x, y):
    return x + y


@flow
def f():
    return [x.result() for x in add.map([1, 2, 3], unmapped(100))]


print(f())
