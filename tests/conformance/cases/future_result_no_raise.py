# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (result(raise_on_failure=False) returns the exception)
from prefect import flow, task


@task
def bad():
    raise ArithmeticError("bad math")


@flow
def f():
    exc = bad.submit().result(raise_on_failure=False)
    return type(exc).__name__, str(exc)


print(f())
