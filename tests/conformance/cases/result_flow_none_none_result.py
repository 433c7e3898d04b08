# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a task returning None in a flow returning None: its state's result is None)
from prefect import flow, task


@task
def nothing():
    return None


@flow
def f():
    nothing()


print([s.result() for s in f()])
