# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (only completed runs are cached)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash)
def t(x):
    calls.append(x)
    if len(calls) == 1:
        raise ValueError("first call fails")
    return x


@flow
def f():
    return t(1, return_state=True).name, t(1, return_state=True).name


print(f(), calls)
