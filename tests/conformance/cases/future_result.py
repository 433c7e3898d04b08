# Source: https://docs-2.prefect.io/latest/concepts/task-runners/#using-results-from-submitted-tasks (future.result() waits and returns)
from prefect import flow, task


@task
def mul(a, b):
    return a * b


@flow
def f():
    fut = mul.submit(6, 7)
    return fut.result()


print(f())
