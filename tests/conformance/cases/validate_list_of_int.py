# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (container type hints are validated)

from prefect import flow


@flow
def f(xs: list[int]):
    return xs


print(f(["1", 2, "3"]))
