# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (name defaults to the function name)
from prefect import flow


@flow
def my_pipeline():
    return 1


print(my_pipeline.name)
