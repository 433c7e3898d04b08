# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (returning a value completes even if a task failed)
from prefect import flow, task


@task
def bad():
    raise ValueError("ignored")


@flow
def f():
    bad(return_state=True)
    return "finished anyway"


s = f(return_state=True)
print(s.type.value, s.name, s.result())
