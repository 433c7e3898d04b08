# Source: https://docs-2.prefect.io/latest/concepts/flows/ (a failing flow raises its exception to the caller)
from prefect import flow


@flow
def boom():
    raise ValueError("bad value")


try:
    boom()
except ValueError as exc:
    print("caught", type(exc).__name__, exc)
