# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (a subflow's parent_flow_run_id)
from prefect import flow
from prefect.runtime import flow_run


@flow
def child():
    return flow_run.parent_flow_run_id


@flow
def parent():
    return child() == flow_run.id, child() is not None


print(parent())
