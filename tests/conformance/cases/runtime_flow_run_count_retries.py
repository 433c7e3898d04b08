# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (flow_run.run_count counts flow attempts)
from prefect import flow
from prefect.runtime import flow_run

seen = []


@flow(retries=1, retry_delay_seconds=0)
def f():
    seen.append(flow_run.run_count)
    if len(seen) < 2:
        raise RuntimeError("again")
    return "ok"


print(f(), seen)
