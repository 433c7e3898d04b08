# Source: https://docs-2.prefect.io/latest/concepts/results/ (raise_on_failure=False returns the exception)
from prefect import flow, task


@task
def bad():
    raise IndexError("out of range")


@flow
def f():
    s = bad(return_state=True)
    exc = s.result(raise_on_failure=False)
    return type(exc).__name__, str(exc), isinstance(exc, Exception)


print(f())
