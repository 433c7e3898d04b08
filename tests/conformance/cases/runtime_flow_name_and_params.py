# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (prefect.runtime.flow_run attributes)
from prefect import flow
from prefect.runtime import flow_run


@flow(name="param-flow")
def f(x, y=3):
    return flow_run.flow_name, dict(sorted(flow_run.parameters.items())), flow_run.run_count


print(f(1))
