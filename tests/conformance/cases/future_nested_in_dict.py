# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (futures inside dicts are resolved)
from prefect import flow, task


@task
def val(x):
    return x


@task
def show(d):
    return sorted(d.items())


@flow
def f():
    return show({"a": val.submit(1), "b": val.submit(2)})


print(f())
