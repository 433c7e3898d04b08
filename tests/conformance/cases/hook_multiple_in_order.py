# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (several hooks run in the given order)
from prefect import flow

seen = []


@flow(on_completion=[lambda flow, flow_run, state: seen.append(1), lambda flow, flow_run, state: seen.append(2)])
def f():
    return 1


f()
print(seen)
