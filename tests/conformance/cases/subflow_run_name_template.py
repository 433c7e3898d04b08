# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (subflows use their own flow_run_name)
from prefect import flow
from prefect.runtime import flow_run


@flow(flow_run_name="child-{n}")
def child(n):
    return flow_run.name


@flow
def parent():
    return [child(n) for n in range(2)]


print(parent())
