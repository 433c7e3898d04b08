# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (unmapped keeps a list from being iterated)
from prefect import flow, task, unmapped


@task
def pick(i, items):
    return items[i]


@flow
def f():
    return [x.result() for x in pick.map([0, 2], unmapped(["a", "b", "c"]))]


print(f())
