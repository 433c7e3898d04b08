# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (ParameterBindError for arguments that do not fit)
from prefect import flow
from prefect.exceptions import ParameterBindError


@flow
def f(x):
    return x


try:
    f(1, 2)
except ParameterBindError:
    print("ParameterBindError caught")
