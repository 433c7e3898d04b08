# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a failed subflow fails a parent that returns None)
from prefect import flow


@flow
def child():
    raise ValueError("x")


@flow
def parent():
    child(return_state=True)


s = parent(return_state=True)
print(s.type.value, s.name, s.message)
