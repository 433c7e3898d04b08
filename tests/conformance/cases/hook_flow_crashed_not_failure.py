# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (a crash does not call on_failure)
from prefect import flow

seen = []


@flow(on_crashed=[lambda flow, flow_run, state: seen.append("crashed")],
      on_failure=[lambda flow, flow_run, state: seen.append("failure")])
def f():
    raise KeyboardInterrupt()


try:
    f()
except KeyboardInterrupt:
    print("interrupted")
print(seen)
