# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (flow_run.id is a string id inside a run)
from prefect import flow, task
from prefect.runtime import flow_run, task_run


@task
def t():
    return task_run.id


@flow
def f():
    return flow_run.id, t()


fid, tid = f()
print(type(fid).__name__, type(tid).__name__, fid, tid)
