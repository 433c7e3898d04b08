# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (the default name is the function name, underscores kept)
from prefect import flow


@flow
def load_and_clean_data():
    return None


print(load_and_clean_data.name)
