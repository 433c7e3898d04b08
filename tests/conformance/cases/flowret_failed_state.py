# Source: https://docs-2.prefect.io/latest/concepts/flows/#return-a-manual-state (returning Failed fails the flow)
from prefect import flow
from prefect.states import Failed


@flow
def f():
    return Failed(message="I decided to fail")


s = f(return_state=True)
print(s.type.value, s.name, s.message)
