# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks may be async functions)
from prefect import flow

seen = []


async def done(flow, flow_run, state):
    seen.append(state.name)


@flow(on_completion=[done])
def f():
    return 1


f()
print(seen)
