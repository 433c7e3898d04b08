# Source: https://docs-2.prefect.io/latest/concepts/states/#return-a-custom-state (a direct call of a task returning Failed raises)
from prefect import flow, task
from prefect.states import Failed


@task
def t():
    return Failed(message="explicit failure")


@flow
def f():
    try:
        t()
    except Exception as exc:
        return type(exc).__name__, str(exc)


print(f())
