# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (map returns futures, one per element)
from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
def f():
    futs = inc.map([1, 2, 3])
    return len(futs), isinstance(futs, list)


print(f())
