# Source: https://docs-2.prefect.io/latest/concepts/flows/ (any Python object can be returned)
from prefect import flow


@flow
def make():
    return {"a": [1, 2], "b": (3, None)}


print(make())
