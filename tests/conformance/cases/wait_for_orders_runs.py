# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (wait_for makes a run wait without passing data)
import time

from prefect import flow, task

order = []


@task
def first():
    time.sleep(0.1)
    order.append("first")


@task
def second():
    order.append("second")


@flow
def f():
    a = first.submit()
    b = second.submit(wait_for=[a])
    b.wait()
    return order


print(f())
