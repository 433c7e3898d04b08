# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning a task state decides the flow state)
from prefect import flow, task


@task
def bad():
    raise ValueError("x")


@flow
def f():
    return bad(return_state=True)


s = f(return_state=True)
print(s.type.value, s.name)
print(type(s.result(raise_on_failure=False)).__name__)
