# Source: https://docs-2.prefect.io/latest/concepts/states/#return-a-custom-state (a task can return a state)
from prefect import flow, task
from prefect.states import Completed


@task
def t():
    return Completed(message="custom done", data="payload")


@flow
def f():
    s = t(return_state=True)
    return s.name, s.message, s.result()


print(f())
