# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (mapped runs are named task-<index>)
from prefect import flow, task
from prefect.runtime import task_run


@task
def name_of(x):
    return task_run.name


@flow
def f():
    return sorted(x.result() for x in name_of.map([1, 2, 3]))


print(f())
