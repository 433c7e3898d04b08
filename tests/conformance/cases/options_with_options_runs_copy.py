# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (the copy runs the same function)
from prefect import flow, task
from prefect.runtime import task_run


@task
def t(x):
    return task_run.task_name, x


@flow
def f():
    return t.with_options(name="other")(1)


print(f())
