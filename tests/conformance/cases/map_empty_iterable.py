# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (mapping over nothing creates no runs)
from prefect import flow, task

calls = []


@task
def t(x):
    calls.append(x)


@flow
def f():
    return len(t.map([]))


print(f(), calls)
