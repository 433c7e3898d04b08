# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (flow_run_name can be a function)
from prefect import flow
from prefect.runtime import flow_run


def make_name():
    return "from-callable"


@flow(flow_run_name=make_name)
def f():
    return flow_run.name


print(f())
