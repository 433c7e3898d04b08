# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (invalid parameters fail the flow run)
from prefect import flow


@flow
def f(x: int):
    return x


s = f("not a number", return_state=True)
print(s.type.value, s.name)
print(type(s.result(raise_on_failure=False)).__name__)
