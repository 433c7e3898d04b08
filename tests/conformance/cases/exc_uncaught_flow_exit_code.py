# Source: https://docs-2.prefect.io/latest/concepts/flows/ (an uncaught flow exception ends the script with the original error)
from prefect import flow


@flow
def f():
    raise ValueError("uncaught in flow")


f()
