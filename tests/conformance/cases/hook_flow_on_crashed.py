# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (on_crashed runs when a flow run crashes)
import sys

from prefect import flow

seen = []


def crashed(flow, flow_run, state):
    seen.append((state.type.value, state.name))


@flow(on_crashed=[crashed])
def f():
    sys.exit(3)


try:
    f()
except SystemExit as exc:
    print("exit", exc.code)
print(seen)
