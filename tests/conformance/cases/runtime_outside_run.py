# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (runtime values outside of a run)
from prefect.runtime import flow_run, task_run

print(flow_run.id, flow_run.name, task_run.id, task_run.name)
