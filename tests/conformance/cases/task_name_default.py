# Source: https://docs-2.prefect.io/latest/concepts/tasks/#task-arguments (name defaults to the function name)
from prefect import task


@task
def fetch_data():
    return 1


@task(name="Custom Name")
def other():
    return 2


print(fetch_data.name)
print(other.name)
