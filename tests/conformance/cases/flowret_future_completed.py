# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (what calling a flow that returns a completed future gives)
from prefect import flow, task


@task
def ok():
    return "future value"


@flow
def f():
    return ok.submit()


print(f())
