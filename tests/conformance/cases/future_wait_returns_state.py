# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (wait() returns the final state)
from prefect import flow, task


@task
def ok():
    return "x"


@flow
def f():
    fut = ok.submit()
    state = fut.wait()
    return state.type.value, state.name, state.result()


print(f())
