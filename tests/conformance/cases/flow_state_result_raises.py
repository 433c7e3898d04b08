# Source: https://docs-2.prefect.io/latest/concepts/results/ (result() re-raises a failed run's exception)
from prefect import flow


@flow
def boom():
    raise KeyError("missing")


state = boom(return_state=True)
try:
    state.result()
except KeyError as exc:
    print("raised", repr(exc))
