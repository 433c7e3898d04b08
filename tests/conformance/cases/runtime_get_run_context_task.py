# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (get_run_context in a task gives a TaskRunContext)
from prefect import flow, task
from prefect.context import get_run_context


@task
def t():
    ctx = get_run_context()
    return type(ctx).__name__, ctx.task.name, ctx.task_run.name


@flow
def f():
    return t()


print(f())
