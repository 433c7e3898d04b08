# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning a future of a failed run fails the flow)
from prefect import flow, task


@task
def bad():
    raise ValueError("from future")


@flow
def f():
    return bad.submit()


s = f(return_state=True)
print(s.type.value, s.name)
