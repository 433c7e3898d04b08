# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (task_input_hash: same inputs reuse the result)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash)
def expensive(x):
    calls.append(x)
    return x * 10


@flow
def f():
    a = expensive(1, return_state=True)
    b = expensive(1, return_state=True)
    return a.name, b.name, b.result()


print(f(), calls)
