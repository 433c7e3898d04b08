# Source: https://docs-2.prefect.io/latest/concepts/flows/#return-a-manual-state (a flow can return Completed(message=...))
from prefect import flow
from prefect.states import Completed


@flow
def f():
    return Completed(message="It went fine")


s = f(return_state=True)
print(s.type.value, s.name, s.message)
print(s.result())
