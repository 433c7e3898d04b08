# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (the downstream of a failed run raises UpstreamTaskError)
from prefect import flow, task


@task
def bad():
    raise ValueError("upstream broke")


@task
def down(x):
    return x


@flow
def f():
    b = down.submit(bad.submit())
    try:
        b.result()
    except Exception as exc:
        return type(exc).__name__


print(f())
