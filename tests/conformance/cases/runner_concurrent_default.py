# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (ConcurrentTaskRunner is the default)
from prefect import flow
from prefect.task_runners import ConcurrentTaskRunner


@flow
def f():
    return 1


print(isinstance(f.task_runner, ConcurrentTaskRunner))
