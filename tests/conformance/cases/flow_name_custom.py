# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (name=...)
from prefect import flow


@flow(name="My Flow")
def f():
    return 1


print(f.name)
print(f())
