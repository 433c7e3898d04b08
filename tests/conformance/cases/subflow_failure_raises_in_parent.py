# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (a failing subflow raises in the parent)
from prefect import flow


@flow
def child():
    raise ValueError("child failed")


@flow
def parent():
    try:
        child()
    except ValueError as exc:
        return f"parent caught: {exc}"


print(parent())
