# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (iterables can be passed by keyword)
from prefect import flow, task


@task
def sub(a, b):
    return a - b


@flow
def f():
    return [x.result() for x in sub.map(a=[10, 20], b=[1, 2])]


print(f())
