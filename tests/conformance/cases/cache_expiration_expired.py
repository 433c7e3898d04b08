# Source: https://docs-2.prefect.io/latest/concepts/tasks/#cache-expiration (an expired entry is not used)
import datetime
import time

from prefect import flow, task
from prefect.tasks import task_input_hash

calls = []


@task(cache_key_fn=task_input_hash, cache_expiration=datetime.timedelta(seconds=0.1))
def t(x):
    calls.append(x)
    return x


@flow
def f():
    a = t(1, return_state=True).name
    time.sleep(0.2)
    b = t(1, return_state=True).name
    return a, b


print(f(), calls)
