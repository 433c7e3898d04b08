# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (since 2.18, a task can call, submit and map other tasks)
from prefect import flow, task

calls = []


@task
def inner(x):
    calls.append(x)
    return x * 2


@task
def outer(x):
    direct = inner(x)
    submitted = inner.submit(x + 1).result()
    mapped = [f.result() for f in inner.map([x + 2, x + 3])]
    return direct, submitted, mapped


@flow
def main():
    return outer(1)


print(main())
print(sorted(calls))
