# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (a dict argument is iterated like any iterable: over its keys)
# deliberate-difference: docs/migration.md#dicts-are-not-mapped-over
from prefect import flow, task


@task
def show(i, x):
    return f"{i}:{x!r}"


@flow
def f():
    return [fut.result() for fut in show.map([1, 2], {"a": 1, "b": 2})]


print(f())
