# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (no return, no tasks: Completed with None)
from prefect import flow


@flow
def nothing():
    pass


print(nothing())
state = nothing(return_state=True)
print(state.name, state.result())
