# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (futures inside a returned value become their states)
from prefect import flow, task


@task
def ok(x):
    return x


@flow
def f():
    return {"a": ok.submit(1), "b": 2}


r = f()
print(type(r["a"]).__name__, r["a"].type.value, r["a"].result(), r["b"])
