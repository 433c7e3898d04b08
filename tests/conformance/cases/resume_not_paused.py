# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.resume_flow_run (resuming a run that is not paused raises NotPausedError)
# needs-recording
from prefect import flow, resume_flow_run
from prefect.exceptions import NotPausedError


@flow
def f():
    return 1


state = f(return_state=True)
try:
    resume_flow_run(state.state_details.flow_run_id)
except NotPausedError:
    print("NotPausedError")
