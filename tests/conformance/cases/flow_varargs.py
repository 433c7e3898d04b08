# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (*args and **kwargs are accepted)
from prefect import flow


@flow
def collect(*args, **kwargs):
    return list(args), dict(sorted(kwargs.items()))


print(collect(1, 2, b=3, a=4))
