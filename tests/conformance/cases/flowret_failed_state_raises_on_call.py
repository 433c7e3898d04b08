# Source: https://docs-2.prefect.io/latest/concepts/flows/#return-a-manual-state (a flow returning Failed raises when called)
from prefect import flow
from prefect.states import Failed


@flow
def f():
    return Failed(message="failed on purpose")


try:
    f()
except Exception as exc:
    print(type(exc).__name__, exc)
