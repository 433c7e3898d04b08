# Source: https://docs-2.prefect.io/latest/concepts/flows/ (Flow.with_options)
from prefect import flow


@flow(name="base", retries=1)
def f():
    return "ran"


g = f.with_options(name="variant", retries=4)
print(f.name, f.retries, g.name, g.retries, g())
