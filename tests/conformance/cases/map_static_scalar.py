# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (non-iterable arguments are passed to every run)
from prefect import flow, task


@task
def scale(x, factor):
    return x * factor


@flow
def f():
    return [x.result() for x in scale.map([1, 2, 3], 5)]


print(f())
