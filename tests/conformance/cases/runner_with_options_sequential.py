# Source: https://docs-2.prefect.io/latest/concepts/flows/ (with_options(task_runner=...))
from prefect import flow, task
from prefect.task_runners import SequentialTaskRunner


@task
def t(x):
    return x


@flow
def f():
    return [t.submit(i).result() for i in range(3)]


g = f.with_options(task_runner=SequentialTaskRunner())
print(type(g.task_runner).__name__, g())
