# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (child results of a flow returning None; headwater keeps them up to a per-flow-run budget)
# deliberate-difference: docs/migration.md#child-results-beyond-the-flow-run-budget-are-freed
import os

os.environ["PREFECT_FLOW_RUN_RESULT_BUDGET"] = "250000"

from prefect import flow, task


@task
def blob(i):
    return bytes(100_000)


@flow
def f():
    for i in range(4):
        blob(i)


for s in f():
    try:
        print(s.name, len(s.result()))
    except Exception as exc:
        print(s.name, type(exc).__name__)
