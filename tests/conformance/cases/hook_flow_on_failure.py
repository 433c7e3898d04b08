# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (flow on_failure hooks)
from prefect import flow

seen = []


def failed(flow, flow_run, state):
    seen.append((flow.name, state.type.value, state.message))


@flow(on_failure=[failed])
def f():
    raise RuntimeError("flow hook")


f(return_state=True)
print(seen)
