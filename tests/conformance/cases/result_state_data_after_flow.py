# Source: https://docs-2.prefect.io/latest/concepts/results/ (a returned state's result can be read after the flow)
from prefect import flow, task


@task
def t():
    return [1, 2, 3]


@flow
def f():
    return t(return_state=True)


s = f(return_state=True)
print(s.result())
