# Source: https://docs-2.prefect.io/latest/concepts/tasks/#tags (tags around a flow call reach its task runs)
from prefect import flow, tags, task
from prefect.runtime import task_run


@task
def t():
    return sorted(task_run.tags)


@flow
def f():
    return t()


with tags("nightly"):
    print(f())
