# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning None after tasks completed)
from prefect import flow, task


@task
def ok():
    return 1


@flow
def f():
    ok()
    ok.submit()


s = f(return_state=True)
print(s.type.value, s.name, s.message)
