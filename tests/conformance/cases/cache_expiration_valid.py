# Source: https://docs-2.prefect.io/latest/concepts/tasks/#cache-expiration (an unexpired entry is used)
import datetime

from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash, cache_expiration=datetime.timedelta(hours=1))
def t(x):
    calls.append(x)
    return x


@flow
def f():
    return t(1, return_state=True).name, t(1, return_state=True).name


print(f(), calls)
