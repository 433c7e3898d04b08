# Source: https://docs-2.prefect.io/latest/concepts/runtime-context/ (get_run_context outside a run raises)
from prefect.context import get_run_context

try:
    get_run_context()
except Exception as exc:
    print(type(exc).__name__)
