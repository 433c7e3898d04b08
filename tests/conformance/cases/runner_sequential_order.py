# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (SequentialTaskRunner runs submitted tasks one at a time, in order)
from prefect import flow, task
from prefect.task_runners import SequentialTaskRunner

order = []


@task
def step(i):
    order.append(i)
    return i


@flow(task_runner=SequentialTaskRunner())
def f():
    futs = [step.submit(i) for i in range(5)]
    return [x.result() for x in futs]


print(f(), order)
