# Source: https://docs-2.prefect.io/latest/concepts/flows/ (the wrapped function is available as .fn)
from prefect import flow


@flow
def double(x):
    return 2 * x


print(double.fn(21))
print(double.fn.__name__)
