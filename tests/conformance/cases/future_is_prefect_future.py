# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (submit returns a PrefectFuture)
from prefect import flow, task
from prefect.futures import PrefectFuture


@task
def ok():
    return 1


@flow
def f():
    fut = ok.submit()
    return isinstance(fut, PrefectFuture), type(fut).__name__


print(f())
