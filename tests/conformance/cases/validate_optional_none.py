# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (Optional parameters accept None)

from prefect import flow


@flow
def f(x: int | None = None):
    return x


print(f(), f("7"))
