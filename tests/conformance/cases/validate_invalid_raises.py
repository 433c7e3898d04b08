# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (calling with an invalid parameter raises)
from prefect import flow


@flow
def f(x: int):
    return x


try:
    f("not a number")
except Exception as exc:
    print(type(exc).__name__)
