# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (result() raises a failed run's exception)
from prefect import flow, task


@task
def bad():
    raise ArithmeticError("bad math")


@flow
def f():
    fut = bad.submit()
    try:
        fut.result()
    except ArithmeticError as exc:
        return f"raised {exc}"


print(f())
