# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (get_state() after wait)
from prefect import flow, task


@task
def ok():
    return 1


@flow
def f():
    fut = ok.submit()
    fut.wait()
    return fut.get_state().type.value


print(f())
