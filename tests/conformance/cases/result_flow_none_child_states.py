# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a flow returning None has its task states as result)
from prefect import flow, task


@task
def compute():
    return 42


@flow
def f():
    compute.submit()


states = f(return_state=True).result()
print(type(states).__name__, [s.name for s in states])
for s in states:
    try:
        print(s.result())
    except Exception as exc:
        print(type(exc).__name__)
