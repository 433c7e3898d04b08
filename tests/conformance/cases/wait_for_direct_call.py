# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (wait_for on a direct task call)
from prefect import flow, task

order = []


@task
def first():
    order.append("first")
    return 1


@task
def second():
    order.append("second")
    return 2


@flow
def f():
    a = first.submit()
    second(wait_for=[a])
    return order


print(f())
