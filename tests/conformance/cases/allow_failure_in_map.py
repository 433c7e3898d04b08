# Source: https://docs-2.prefect.io/latest/api-ref/prefect/utilities/annotations/ (allow_failure with unmapped in map)
from prefect import allow_failure, flow, task, unmapped


@task
def bad():
    raise ValueError("shared failure")


@task
def use(i, upstream):
    return f"{i}:{type(upstream).__name__}"


@flow
def f():
    up = bad.submit()
    return [x.result() for x in use.map([1, 2], unmapped(allow_failure(up)))]


print(f())
