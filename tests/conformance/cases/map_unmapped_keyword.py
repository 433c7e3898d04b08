# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (unmapped passed by keyword)
from prefect import flow, task, unmapped


@task
def join(x, sep):
    return sep.join([x, x])


@flow
def f():
    return [fut.result() for fut in join.map(["a", "b"], sep=unmapped("-"))]


print(f())
