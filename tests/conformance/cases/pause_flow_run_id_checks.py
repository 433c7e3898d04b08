# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.pause_flow_run (flow_run_id pauses a run out of process; it needs a deployment)
from prefect import flow, pause_flow_run
from prefect.context import get_run_context


@flow
def f():
    run_id = get_run_context().flow_run.id
    for options in ({}, {"wait_for_input": int}, {"reschedule": True}):
        try:
            pause_flow_run(flow_run_id=run_id, timeout=5, **options)
            print(sorted(options), "paused")
        except RuntimeError as exc:
            print(sorted(options), "RuntimeError:", str(exc).split(" (")[0])
    return "still running"


print(f())
