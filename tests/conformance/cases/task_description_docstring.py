# Source: https://docs-2.prefect.io/latest/concepts/tasks/#task-arguments (description defaults to the docstring)
from prefect import task


@task
def documented():
    """Adds numbers."""


print(repr(documented.description))
