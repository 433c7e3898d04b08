# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (a task's tags apply to its runs)
from prefect import flow, task
from prefect.runtime import task_run


@task(tags=["db", "io"])
def t():
    return sorted(task_run.tags)


@flow
def f():
    return t()


print(f())
