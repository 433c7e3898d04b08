# Source: https://docs-2.prefect.io/latest/api-ref/prefect/utilities/annotations/ (allow_failure in wait_for)
from prefect import allow_failure, flow, task


@task
def bad():
    raise ValueError("x")


@task
def after():
    return "ran after failure"


@flow
def f():
    a = bad.submit()
    return after.submit(wait_for=[allow_failure(a)]).result()


print(f())
