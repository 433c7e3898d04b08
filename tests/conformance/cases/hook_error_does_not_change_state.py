# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (an error in a hook does not change the run's state)
from prefect import flow

seen = []


def broken(flow, flow_run, state):
    raise ValueError("hook failed")


def second(flow, flow_run, state):
    seen.append("second hook ran")


@flow(on_completion=[broken, second])
def f():
    return "fine"


s = f(return_state=True)
print(s.name, s.result(), seen)
