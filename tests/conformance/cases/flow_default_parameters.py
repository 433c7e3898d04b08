# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (defaults apply when omitted)
from prefect import flow


@flow
def power(base, exp=2):
    return base**exp


print(power(3), power(2, exp=10))
