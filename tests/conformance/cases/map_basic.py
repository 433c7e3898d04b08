# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (map runs the task once per element)
from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
def f():
    futs = inc.map([1, 2, 3])
    return [x.result() for x in futs]


print(f())
