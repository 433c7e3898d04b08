# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (MappingLengthMismatch)
from prefect import flow, task
from prefect.exceptions import MappingLengthMismatch


@task
def t(a, b):
    return a + b


@flow
def f():
    try:
        t.map([1], [1, 2])
    except MappingLengthMismatch:
        return "MappingLengthMismatch caught"


print(f())
