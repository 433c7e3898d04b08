# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (MissingContextError is raised outside a run)
from prefect.context import get_run_context
from prefect.exceptions import MissingContextError

try:
    get_run_context()
except MissingContextError as exc:
    print("MissingContextError", isinstance(exc, Exception))
