# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (calling a task directly with a failed upstream future)
from prefect import flow, task

ran = []


@task
def bad():
    raise ValueError("x")


@task
def down(x):
    ran.append(x)
    return x


@flow
def f():
    try:
        down(bad.submit())
    except Exception as exc:
        return type(exc).__name__, ran
    return "no error", ran


print(f())
