# Source: https://docs-2.prefect.io/latest/concepts/tasks/#caching (cache_key_fn receives the context and the parameters by name)
from prefect import flow, task

seen = []


def key(context, parameters):
    seen.append((type(context).__name__, sorted(parameters.items())))
    return "fixed"


@task(cache_key_fn=key)
def add(a, b=2):
    return a + b


@flow
def f():
    return add(1)


print(f(), seen)
