# Source: https://docs-2.prefect.io/latest/concepts/flows/#flow-settings (a flow retry runs its tasks again)
from prefect import flow, task

task_calls = []
flow_calls = []


@task
def t():
    task_calls.append(1)
    return 1


@flow(retries=1, retry_delay_seconds=0)
def f():
    flow_calls.append(1)
    t()
    if len(flow_calls) < 2:
        raise RuntimeError("x")
    return "ok"


print(f(), len(flow_calls), len(task_calls))
