# Source: https://docs-2.prefect.io/latest/guides/creating-interactive-workflows/ and prefect/server/orchestration/core_policy.py (HandlePausingFlows: reschedule needs a deployment)
from prefect import flow, pause_flow_run


@flow
def f():
    try:
        pause_flow_run(timeout=5, reschedule=True)
    except RuntimeError as exc:
        print("RuntimeError:", str(exc).split(" (")[0])
    return "went on"


print(f())
