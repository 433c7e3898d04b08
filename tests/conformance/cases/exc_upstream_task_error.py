# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (UpstreamTaskError for runs whose upstream failed)
from prefect import flow, task
from prefect.exceptions import UpstreamTaskError


@task
def bad():
    raise ValueError("x")


@task
def down(x):
    return x


@flow
def f():
    fut = down.submit(bad.submit())
    try:
        fut.result()
    except UpstreamTaskError:
        return "UpstreamTaskError caught"


print(f())
