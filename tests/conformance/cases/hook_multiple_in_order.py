# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (several hooks run in the given order)
from prefect import flow

seen = []


@flow(on_completion=[lambda f, r, s: seen.append(1), lambda f, r, s: seen.append(2)])
def f():
    return 1


f()
print(seen)
