# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (flow on_completion hooks)
from prefect import flow

seen = []


def done(flow, flow_run, state):
    seen.append((flow.name, flow_run.name, state.name))


@flow(on_completion=[done], flow_run_name="hooked")
def f():
    return 1


f()
print(seen)
