# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (a flow whose return value is None at run time hands back its task states)
# deliberate-difference: docs/migration.md#child-results-beyond-the-flow-run-budget-are-freed
from prefect import flow, task


@task
def one():
    return 1


def nothing():
    return None


@flow
def f():
    one()
    return nothing()


for s in f():
    try:
        print(s.name, s.result())
    except Exception as exc:
        print(s.name, type(exc).__name__)
