# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (a subflow with return_state=True)
from prefect import flow


@flow
def child():
    raise ValueError("child failed")


@flow
def parent():
    s = child(return_state=True)
    return s.type.value, s.name


print(parent())
