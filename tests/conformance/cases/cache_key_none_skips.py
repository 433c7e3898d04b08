# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (a key of None means no caching)
from prefect import flow, task

calls = []


@task(cache_key_fn=lambda ctx, params: None)
def t(x):
    calls.append(x)
    return x


@flow
def f():
    return t(1, return_state=True).name, t(1, return_state=True).name


print(f(), calls)
