# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (strings coerced to bool)
from prefect import flow


@flow
def f(flag: bool):
    return flag


print(f("true"), f("0"))
