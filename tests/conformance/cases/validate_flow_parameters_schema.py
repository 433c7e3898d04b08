# Source: https://docs-2.prefect.io/latest/concepts/flows/#parameters (flow.parameters is a schema of the parameters)
from prefect import flow


@flow
def f(x: int, y: str = "a"):
    return None


schema = f.parameters
print(sorted(schema.properties), schema.required)
