# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (a failed wait_for upstream stops the run)
from prefect import flow, task

ran = []


@task
def bad():
    raise ValueError("x")


@task
def second():
    ran.append(1)


@flow
def f():
    b = second.submit(wait_for=[bad.submit()])
    s = b.wait()
    return s.type.value, s.name, ran


print(f())
