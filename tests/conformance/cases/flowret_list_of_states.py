# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning several states: any failure fails the flow)
from prefect import flow, task


@task
def ok():
    return 1


@task
def bad():
    raise ValueError("x")


@flow
def f():
    return [ok(return_state=True), bad(return_state=True), ok(return_state=True)]


s = f(return_state=True)
print(s.type.value, s.name, s.message)
