# Source: https://docs-2.prefect.io/latest/api-ref/prefect/flows/ (@flow returns a Flow object)
from prefect import Flow, flow


@flow
def f():
    return 1


print(isinstance(f, Flow), callable(f))
