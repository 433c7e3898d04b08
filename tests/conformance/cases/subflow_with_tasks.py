# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (subflows run their own tasks)
from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
def child(x):
    return inc(inc(x))


@flow
def parent():
    return [child(i) for i in range(3)]


print(parent())
