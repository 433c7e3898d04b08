# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (task run names are task-<n>, counted per flow run)
from prefect import flow, task
from prefect.runtime import task_run


@task
def step():
    return task_run.name


@flow
def f():
    return [step() for _ in range(3)]


print(f())
