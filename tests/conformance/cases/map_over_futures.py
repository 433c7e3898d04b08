# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (map accepts the futures of another map)
from prefect import flow, task


@task
def inc(x):
    return x + 1


@task
def double(x):
    return 2 * x


@flow
def f():
    return [x.result() for x in double.map(inc.map([1, 2, 3]))]


print(f())
