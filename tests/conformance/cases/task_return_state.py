# Source: https://docs-2.prefect.io/latest/concepts/states/ (return_state=True on a task call)
from prefect import flow, task


@task
def ok():
    return 5


@task
def bad():
    raise TypeError("wrong type")


@flow
def f():
    a = ok(return_state=True)
    b = bad(return_state=True)
    print(a.type.value, a.name, a.result())
    print(b.type.value, b.name, b.message)
    return "ok"


f()
