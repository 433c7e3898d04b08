# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (validate_parameters=False skips validation)
from prefect import flow


@flow(validate_parameters=False)
def f(x: int):
    return x, type(x).__name__


print(f("5"))
