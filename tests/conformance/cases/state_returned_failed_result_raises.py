# Source: https://docs-2.prefect.io/latest/concepts/states/#return-a-custom-state (result() of a returned Failed state raises)
from prefect import flow, task
from prefect.states import Failed


@task
def t():
    return Failed(message="nope")


@flow
def f():
    s = t(return_state=True)
    try:
        s.result()
    except Exception as exc:
        return type(exc).__name__, str(exc)


print(f())
