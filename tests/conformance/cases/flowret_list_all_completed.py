# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning completed states completes the flow)
from prefect import flow, task


@task
def ok(x):
    return x


@flow
def f():
    return [ok(1, return_state=True), ok(2, return_state=True)]


s = f(return_state=True)
print(s.type.value, s.name, s.message)
