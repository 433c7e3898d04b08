# Source: https://docs-2.prefect.io/latest/concepts/states/ (an exception in a flow gives a Failed state)
from prefect import flow


@flow
def boom():
    raise RuntimeError("kaput")


state = boom(return_state=True)
print(state.type.value, state.name, state.is_failed())
print(state.message)
exc = state.result(raise_on_failure=False)
print(type(exc).__name__, exc)
