# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (task arguments are not validated or coerced)
from prefect import flow, task


@task
def t(x: int):
    return x, type(x).__name__


@flow
def f():
    return t("5")


print(f())
