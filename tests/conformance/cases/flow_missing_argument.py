# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (a missing argument fails before the run)
from prefect import flow


@flow
def needs(x):
    return x


try:
    needs()
except Exception as exc:
    print(type(exc).__name__)
