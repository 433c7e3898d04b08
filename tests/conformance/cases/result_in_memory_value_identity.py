# Source: https://docs-2.prefect.io/latest/concepts/results/ (results are kept in memory and returned as is)
# deliberate-difference: docs/migration.md#task-arguments-are-passed-as-given
from prefect import flow, task

payload = {"k": [1, 2]}


@task
def echo(x):
    return x


@flow
def f():
    return echo(payload) is payload


print(f())
