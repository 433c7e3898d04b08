# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (each mapped run retries on its own)
from prefect import flow, task

attempts = {}


@task(retries=1, retry_delay_seconds=0)
def t(x):
    attempts[x] = attempts.get(x, 0) + 1
    if x == 2 and attempts[x] == 1:
        raise ValueError("x")
    return x


@flow
def f():
    return [fut.result() for fut in t.map([1, 2, 3])]


print(f(), sorted(attempts.items()))
