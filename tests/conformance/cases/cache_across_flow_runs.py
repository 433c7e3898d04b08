# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (the cache is shared across flow runs)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash)
def expensive(x):
    calls.append(x)
    return x + 0.5


@flow
def f():
    return expensive(3, return_state=True).name


print(f(), f(), calls)
