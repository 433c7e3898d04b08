# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (flow_run values are visible inside tasks)
from prefect import flow, task
from prefect.runtime import flow_run


@task
def t():
    return flow_run.flow_name, flow_run.parameters


@flow(name="outer-flow")
def f(n):
    return t()


print(f(3))
