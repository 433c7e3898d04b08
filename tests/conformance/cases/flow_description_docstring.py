# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (description defaults to the docstring)
from prefect import flow


@flow
def documented():
    """Loads the data."""


@flow(description="explicit")
def described():
    """ignored"""


print(repr(documented.description))
print(repr(described.description))
