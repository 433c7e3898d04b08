# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (allow_failure lets a downstream run after a failure)
from prefect import allow_failure, flow, task


@task
def bad():
    raise ValueError("upstream failed")


@task
def cleanup(x):
    return f"cleanup got {type(x).__name__}: {x}"


@flow
def f():
    a = bad.submit()
    return cleanup.submit(allow_failure(a)).result()


print(f())
