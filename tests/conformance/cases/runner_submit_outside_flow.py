# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (submit needs a flow run)
# deliberate-difference: docs/migration.md#tasks-can-be-submitted-outside-a-flow
from prefect import task


@task
def t():
    return 1


try:
    t.submit()
except Exception as exc:
    print(type(exc).__name__)
