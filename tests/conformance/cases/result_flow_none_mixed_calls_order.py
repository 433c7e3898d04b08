# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination and prefect/engine.py (child states of a flow returning None: task runs in the order they were created)
import time

from prefect import flow, task


@task
def slow_then(x, delay):
    time.sleep(delay)
    return x


@flow
def f():
    slow_then.submit("first", 0.2)
    slow_then.submit("second", 0.0)
    slow_then("third", 0.0)


state = f(return_state=True)
print(state.name, state.message)
print([s.result() for s in state.result()])
