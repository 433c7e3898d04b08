# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (a top-level flow run has no parent)
from prefect import flow
from prefect.runtime import flow_run


@flow
def f():
    return flow_run.parent_flow_run_id


print(f())
