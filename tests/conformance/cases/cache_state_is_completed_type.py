# Source: https://docs-2.prefect.io/latest/concepts/states/ (Cached is a COMPLETED state)
from prefect import flow, task
from prefect.tasks import task_input_hash


@task(cache_key_fn=task_input_hash)
def t(x):
    return x


@flow
def f():
    t(1)
    s = t(1, return_state=True)
    return s.name, s.type.value, s.is_completed()


print(f())
