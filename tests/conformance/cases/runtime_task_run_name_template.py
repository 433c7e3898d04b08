# Source: https://docs-2.prefect.io/latest/concepts/tasks/#task-arguments (task_run_name templates)
from prefect import flow, task
from prefect.runtime import task_run


@task(task_run_name="load-{table}")
def load(table):
    return task_run.name


@flow
def f():
    return load("users"), load("orders")


print(f())
