# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (task_run_name via with_options)
from prefect import flow, task
from prefect.runtime import task_run


@task
def t(x):
    return task_run.name


@flow
def f():
    return t.with_options(task_run_name="item-{x}")(9)


print(f())
