# Source: https://docs-2.prefect.io/latest/api-ref/prefect/utilities/annotations/ (quote passes an argument without inspecting it)
from prefect import flow, task
from prefect.utilities.annotations import quote


@task
def size(data):
    return len(data)


@flow
def f():
    return size(quote(list(range(1000))))


print(f())
