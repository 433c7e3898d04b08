# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (flow_run.tags)
from prefect import flow, tags
from prefect.runtime import flow_run


@flow
def f():
    return sorted(flow_run.tags)


with tags("alpha", "beta"):
    print(f())
