# Source: https://docs-2.prefect.io/latest/concepts/results/ (persist_result=False keeps results in memory only)
from prefect import flow, task


@task(persist_result=False)
def t():
    return {"a": 1}


@flow(persist_result=False)
def f():
    return t()


print(f(), t.persist_result)
