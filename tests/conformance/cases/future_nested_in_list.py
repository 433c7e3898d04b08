# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (futures inside collections are resolved)
from prefect import flow, task


@task
def val(x):
    return x


@task
def total(xs):
    return sum(xs)


@flow
def f():
    futs = [val.submit(i) for i in range(5)]
    return total(futs)


print(f())
