# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (subflow parameters are validated)
from prefect import flow


@flow
def child(n: int):
    return n + 1


@flow
def parent():
    return child("41")


print(parent())
