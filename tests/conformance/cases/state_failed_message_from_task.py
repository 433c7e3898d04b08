# Source: https://docs-2.prefect.io/latest/concepts/states/ (a failed task run's message names the exception)
from prefect import flow, task


@task
def bad():
    raise ValueError("invalid input 42")


@flow
def f():
    s = bad(return_state=True)
    return s.message


print(f())
