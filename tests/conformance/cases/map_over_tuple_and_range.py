# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (any iterable can be mapped)
from prefect import flow, task


@task
def neg(x):
    return -x


@flow
def f():
    return [x.result() for x in neg.map(range(3))], [x.result() for x in neg.map((5, 6))]


print(f())
