# Source: https://docs-2.prefect.io/latest/concepts/flows/#return-a-manual-state (custom state names, e.g. Skipped)
from prefect import flow
from prefect.states import Completed


@flow
def f():
    return Completed(message="nothing to do", name="Skipped")


s = f(return_state=True)
print(s.type.value, s.name, s.message)
