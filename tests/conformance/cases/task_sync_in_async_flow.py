# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (sync tasks can be called from async flows)
import asyncio

from prefect import flow, task


@task
def add(a, b):
    return a + b


@flow
async def f():
    return add(1, 2)


print(asyncio.run(f()))
