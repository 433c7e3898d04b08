# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (the original function is .fn)
from prefect import task


@task
def add(a, b):
    return a + b


print(add.fn(1, 2))
