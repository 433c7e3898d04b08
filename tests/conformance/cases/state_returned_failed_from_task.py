# Source: https://docs-2.prefect.io/latest/concepts/states/#return-a-custom-state (returning Failed fails the run)
from prefect import flow, task
from prefect.states import Failed


@task
def t():
    return Failed(message="validation failed")


@flow
def f():
    s = t(return_state=True)
    return s.type.value, s.name, s.message


print(f())
