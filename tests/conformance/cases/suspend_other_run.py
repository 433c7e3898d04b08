# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.suspend_flow_run (flow_run_id suspends another run; it needs a deployment)
# needs-recording
from prefect import flow, suspend_flow_run
from prefect.context import get_run_context


@flow
def f():
    run_id = get_run_context().flow_run.id
    try:
        suspend_flow_run(flow_run_id=run_id, timeout=5)
        print("suspended")
    except RuntimeError as exc:
        print("RuntimeError:", str(exc).split(" (")[0])
    return run_id


run_id = f()
try:
    suspend_flow_run(flow_run_id=run_id)
except RuntimeError as exc:
    print("finished run:", str(exc).split(" (")[0])
