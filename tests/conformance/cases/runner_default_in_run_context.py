# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (a flow run without task_runner uses a ConcurrentTaskRunner)
from prefect import flow
from prefect.context import get_run_context
from prefect.task_runners import ConcurrentTaskRunner


@flow
def f():
    return isinstance(get_run_context().task_runner, ConcurrentTaskRunner)


print(f())
