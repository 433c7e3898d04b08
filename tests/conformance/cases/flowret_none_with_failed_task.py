# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning None: a failed task fails the flow)
from prefect import flow, task


@task
def bad():
    raise ValueError("quiet failure")


@task
def ok():
    return 1


@flow
def f():
    ok.submit()
    bad.submit()


s = f(return_state=True)
print(s.type.value, s.name, s.message)
