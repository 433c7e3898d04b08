# Source: https://docs-2.prefect.io/latest/api-ref/prefect/utilities/annotations/ (allow_failure on a completed run passes its result)
from prefect import allow_failure, flow, task


@task
def ok():
    return 7


@task
def show(x):
    return x * 2


@flow
def f():
    return show(allow_failure(ok.submit()))


print(f())
