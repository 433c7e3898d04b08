# Source: https://docs-2.prefect.io/latest/concepts/states/ (a run skipped because of an upstream failure is NotReady)
# deliberate-difference: docs/migration.md#notready-says-why
from prefect import flow, task


@task
def parse():
    raise ValueError("x")


@task
def use(x):
    return x


@flow
def f():
    s = use.submit(parse.submit()).wait()
    return s.type.value, s.name, s.message


print(f())
