# Source: https://docs-2.prefect.io/latest/concepts/logs/ (get_run_logger outside a run raises MissingContextError)
from prefect import get_run_logger

try:
    get_run_logger()
except Exception as exc:
    print(type(exc).__name__)
