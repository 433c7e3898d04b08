# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (get_run_context in a flow gives a FlowRunContext)
from prefect import flow
from prefect.context import FlowRunContext, get_run_context


@flow(flow_run_name="ctx-run")
def f():
    ctx = get_run_context()
    return isinstance(ctx, FlowRunContext), ctx.flow.name, ctx.flow_run.name


print(f())
