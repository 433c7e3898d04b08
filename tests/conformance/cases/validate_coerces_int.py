# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (parameters are coerced to their type hints)
from prefect import flow


@flow
def f(x: int):
    return x, type(x).__name__


print(f("5"))
