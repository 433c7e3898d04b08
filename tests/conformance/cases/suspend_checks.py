# Source: https://docs-2.prefect.io/latest/api-ref/prefect/engine/#prefect.engine.suspend_flow_run (where suspend_flow_run may be called; suspending needs a deployment)
from prefect import flow, suspend_flow_run, task


def show(where, call):
    try:
        call()
        print(where, "suspended")
    except RuntimeError as exc:
        print(where, "RuntimeError:", str(exc).split(" (")[0])


@task
def in_task():
    show("task", lambda: suspend_flow_run(timeout=5))


@flow
def child():
    show("subflow", lambda: suspend_flow_run(timeout=5))


@flow
def f():
    show("flow", lambda: suspend_flow_run(timeout=5, key="once"))
    in_task()
    child()
    return "went on"


show("outside", lambda: suspend_flow_run())
print(f())
