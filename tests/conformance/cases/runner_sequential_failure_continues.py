# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (a failed submitted run does not stop the others)
from prefect import flow, task
from prefect.task_runners import SequentialTaskRunner


@task
def maybe(i):
    if i == 1:
        raise ValueError("one")
    return i


@flow(task_runner=SequentialTaskRunner())
def f():
    futs = [maybe.submit(i) for i in range(3)]
    return [x.wait().type.value for x in futs]


print(f())
