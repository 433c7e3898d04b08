# Source: https://docs-2.prefect.io/latest/concepts/states/ (is_* predicates test the state type)
from prefect import flow


@flow
def ok():
    return 1


s = ok(return_state=True)
print(s.is_completed(), s.is_failed(), s.is_crashed(), s.is_cancelled())
print(s.is_pending(), s.is_running(), s.is_scheduled(), s.is_final())
