# Source: https://docs-2.prefect.io/latest/concepts/flows/ (flow runs get a generated two-word name)
from prefect import flow
from prefect.runtime import flow_run


@flow
def f():
    return flow_run.name


name = f()
print(f"flow_run.name={name}")
print(len(name.split("-")), name == name.lower())
