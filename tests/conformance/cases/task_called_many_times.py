# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (each call creates a new task run)
from prefect import flow, task

calls = []


@task
def t(x):
    calls.append(x)
    return x


@flow
def f():
    return [t(i) for i in range(4)]


print(f(), calls)
