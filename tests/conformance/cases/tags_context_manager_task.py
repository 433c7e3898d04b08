# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (the tags context manager adds tags to runs)
from prefect import flow, tags, task
from prefect.runtime import task_run


@task(tags=["own"])
def t():
    return sorted(task_run.tags)


@flow
def f():
    with tags("ctx"):
        return t()


print(f())
