# Source: https://docs-2.prefect.io/latest/api-ref/prefect/exceptions/ (ParameterTypeError for invalid parameters)
from prefect import flow
from prefect.exceptions import ParameterTypeError


@flow
def f(x: int):
    return x


try:
    f("abc")
except ParameterTypeError:
    print("ParameterTypeError caught")
