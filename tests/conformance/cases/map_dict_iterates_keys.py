# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (a dict argument is iterated, giving its keys)
# deliberate-difference: docs/migration.md#dicts-are-not-mapped-over
from prefect import flow, task


@task
def show(x):
    return repr(x)


@flow
def f():
    return [x.result() for x in show.map({"a": 1, "b": 2})]


print(f())
