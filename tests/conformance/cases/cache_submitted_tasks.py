# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (caching applies to submitted runs)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash)
def t(x):
    calls.append(x)
    return x * 2


@flow
def f():
    first = t.submit(4)
    first.wait()
    second = t.submit(4)
    return second.wait().name, second.result()


print(f(), calls)
