# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a flow returning None: its result is its task runs' states, read with [s.result() for s in flow()])
from prefect import flow, task


@task
def square(x):
    return x * x


@flow
def squares():
    square.map([1, 2, 3, 4])


states = squares()
print(type(states).__name__, len(states))
print([s.result() for s in states])
