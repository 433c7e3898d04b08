# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (version=...)
from prefect import flow


@flow(version="1.2.3")
def versioned():
    return 1


print(versioned.version)
