# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (an unexpected argument is rejected)
from prefect import flow


@flow
def takes_one(x):
    return x


try:
    takes_one(1, y=2)
except Exception as exc:
    print(type(exc).__name__)
