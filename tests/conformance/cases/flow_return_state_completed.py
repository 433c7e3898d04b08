# Source: https://docs-2.prefect.io/latest/concepts/states/ (return_state=True gives the final state)
from prefect import flow


@flow
def ok():
    return "done"


state = ok(return_state=True)
print(state.type.value, state.name, state.is_completed(), state.is_failed())
print(state.result())
