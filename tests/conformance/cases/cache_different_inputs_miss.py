# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (different inputs give different keys)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash)
def expensive(x):
    calls.append(x)
    return x * 10


@flow
def f():
    return expensive(1), expensive(2), expensive(1)


print(f(), calls)
