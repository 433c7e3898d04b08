# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (subflow runs are among the states of a flow returning None)
from prefect import flow, task


@task
def one():
    return 1


@flow
def child():
    one()


@flow
def parent():
    child()
    one()


states = parent()
print([s.name for s in states])
print(states[0].result())
inner = states[1].result()
print(type(inner).__name__, [s.result() for s in inner])
