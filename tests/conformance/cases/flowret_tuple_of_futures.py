# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a tuple of futures is resolved when returned)
from prefect import flow, task


@task
def ok(x):
    return x


@flow
def f():
    return ok.submit(1), ok.submit(2)


s = f(return_state=True)
print(s.type.value, s.name)
