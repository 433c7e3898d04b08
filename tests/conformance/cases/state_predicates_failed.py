# Source: https://docs-2.prefect.io/latest/concepts/states/ (a Failed state is final and failed)
from prefect import flow


@flow
def bad():
    raise Exception("x")


s = bad(return_state=True)
print(s.is_completed(), s.is_failed(), s.is_final(), s.is_crashed())
