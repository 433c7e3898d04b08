# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (each future gives its own run's result)
from prefect import flow, task


@task
def sq(x):
    return x * x


@flow
def f():
    futs = [sq.submit(i) for i in range(6)]
    return [fut.result() for fut in futs]


print(f())
