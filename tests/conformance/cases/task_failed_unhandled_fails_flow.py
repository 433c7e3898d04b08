# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (an unhandled task exception fails the flow)
from prefect import flow, task


@task
def bad():
    raise ValueError("task broke")


@flow
def f():
    bad()
    return "unreachable"


state = f(return_state=True)
print(state.type.value, state.name)
print(repr(state.result(raise_on_failure=False)))
