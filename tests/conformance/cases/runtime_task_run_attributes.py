# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (prefect.runtime.task_run attributes)
from prefect import flow, task
from prefect.runtime import task_run


@task
def my_task(a):
    return task_run.name, task_run.task_name, task_run.parameters, task_run.run_count


@flow
def f():
    return my_task(5)


print(f())
