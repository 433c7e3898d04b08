# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (strings are not iterated)
from prefect import flow, task


@task
def label(x, prefix):
    return f"{prefix}{x}"


@flow
def f():
    return [x.result() for x in label.map([1, 2], "item-")]


print(f())
