# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (tags can be set with with_options)
from prefect import flow, task
from prefect.runtime import task_run


@task
def t():
    return sorted(task_run.tags)


@flow
def f():
    return t.with_options(tags=["x", "y"])()


print(f())
