# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (parameters without hints are passed as given)
from prefect import flow


@flow
def f(x):
    return x, type(x).__name__


print(f("5"), f([1, "a"]))
