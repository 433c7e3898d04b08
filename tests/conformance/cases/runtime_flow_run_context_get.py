# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (FlowRunContext.get() returns None outside a run)
from prefect import flow
from prefect.context import FlowRunContext, TaskRunContext

print(FlowRunContext.get(), TaskRunContext.get())


@flow
def f():
    return FlowRunContext.get() is not None, TaskRunContext.get()


print(f())
