# Source: prefect/server/orchestration/core_policy.py (HandlePausingFlows: a subflow run cannot be paused with reschedule)
from prefect import flow, pause_flow_run


@flow
def child():
    try:
        pause_flow_run(timeout=5, reschedule=True)
    except RuntimeError as exc:
        print("RuntimeError:", str(exc).split(" (")[0])
    return 1


@flow
def parent():
    return child()


print(parent())
