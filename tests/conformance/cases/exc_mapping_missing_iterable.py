# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (MappingMissingIterable)
from prefect import flow, task
from prefect.exceptions import MappingMissingIterable


@task
def t(a):
    return a


@flow
def f():
    try:
        t.map(5)
    except MappingMissingIterable:
        return "MappingMissingIterable caught"


print(f())
