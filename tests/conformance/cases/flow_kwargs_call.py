# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (flows take positional and keyword arguments)
from prefect import flow


@flow
def greet(name, punctuation="!"):
    return f"hello {name}{punctuation}"


print(greet("ada"))
print(greet(name="bob", punctuation="?"))
