# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (flow_run_name templates use parameters)
from prefect import flow
from prefect.runtime import flow_run


@flow(flow_run_name="report-{day}")
def report(day):
    return flow_run.name


print(report("monday"))
