# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks are called with the arguments flow, flow_run and state)
# deliberate-difference: docs/migration.md#hooks-get-their-arguments-by-position
from prefect import flow

seen = []


def hook(f, r, s):
    seen.append(s.name)


@flow(on_completion=[hook])
def f():
    return 1


f()
print(seen)
