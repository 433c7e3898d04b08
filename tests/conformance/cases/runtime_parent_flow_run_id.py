# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (a subflow's parent_flow_run_id is its parent's id)
from prefect import flow
from prefect.runtime import flow_run


@flow
def child():
    return flow_run.parent_flow_run_id


@flow
def parent():
    parent_id = child()
    return type(parent_id).__name__, str(parent_id) == str(flow_run.id)


print(parent())
