# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (a flow's task_runner option)
from prefect import flow
from prefect.task_runners import SequentialTaskRunner


@flow(task_runner=SequentialTaskRunner())
def f():
    return 1


print(type(f.task_runner).__name__, f())
