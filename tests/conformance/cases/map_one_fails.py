# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (each mapped run has its own state)
from prefect import flow, task


@task
def inv(x):
    return 1 / x


@flow
def f():
    futs = inv.map([1, 0, 2])
    return [x.wait().type.value for x in futs]


print(f())
