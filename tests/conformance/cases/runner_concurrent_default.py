# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (ConcurrentTaskRunner is the default)
from prefect import flow


@flow
def f():
    return 1


print(type(f.task_runner).__name__)
