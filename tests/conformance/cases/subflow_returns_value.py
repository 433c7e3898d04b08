# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (a subflow call returns its result)
from prefect import flow


@flow
def child(x):
    return x * 2


@flow
def parent():
    return child(5) + child(1)


print(parent())
