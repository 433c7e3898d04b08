# Source: https://docs-2.prefect.io/latest/concepts/states/ (submit(return_state=True) returns a state)
from prefect import flow, task


@task
def ok():
    return 3


@flow
def f():
    s = ok.submit(return_state=True)
    return type(s).__name__, s.type.value, s.result()


print(f())
