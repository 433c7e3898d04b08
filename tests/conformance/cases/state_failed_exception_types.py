# Source: https://docs-2.prefect.io/latest/concepts/results/ (the original exception type is kept)
from prefect import flow, task


class MyError(Exception):
    pass


@task
def bad():
    raise MyError("custom")


@flow
def f():
    try:
        bad()
    except MyError as exc:
        return f"MyError: {exc}"


print(f())
