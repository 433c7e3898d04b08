# Source: https://docs-2.prefect.io/latest/concepts/states/ (a completed state passed to a task is replaced by its result)
from prefect import flow, task


@task
def val():
    return 41


@task
def inc(x):
    return x + 1


@flow
def f():
    s = val(return_state=True)
    return inc(s)


print(f())
