# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (map with return_state=True gives states)
from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
def f():
    states = inc.map([1, 2], return_state=True)
    return [(type(s).__name__, s.result()) for s in states]


print(f())
