# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (PrefectException is the base class)
from prefect.exceptions import (
    MissingContextError,
    ParameterTypeError,
    PrefectException,
    UpstreamTaskError,
)

for cls in (MissingContextError, ParameterTypeError, UpstreamTaskError):
    print(cls.__name__, issubclass(cls, PrefectException))
