# Source: https://docs-2.prefect.io/latest/concepts/tasks/#refreshing-the-cache (refresh_cache=True always runs)
from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash, refresh_cache=True)
def t(x):
    calls.append(x)
    return x


@flow
def f():
    return t(1, return_state=True).name, t(1, return_state=True).name


print(f(), calls)
