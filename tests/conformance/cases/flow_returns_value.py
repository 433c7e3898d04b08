# Source: https://docs-2.prefect.io/latest/concepts/flows/ (calling a flow returns its result)
from prefect import flow


@flow
def add(a, b):
    return a + b


print(add(2, 3))
