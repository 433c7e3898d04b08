# Source: https://docs-2.prefect.io/latest/concepts/task-runners/#using-results-from-submitted-tasks (futures passed to tasks are resolved)
from prefect import flow, task


@task
def one():
    return 1


@task
def plus(x, y):
    return x + y


@flow
def f():
    a = one.submit()
    b = plus.submit(a, 10)
    return b.result()


print(f())
