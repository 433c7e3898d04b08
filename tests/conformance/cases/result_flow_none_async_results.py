# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (an async flow returning None: its child states carry their results)
import asyncio

from prefect import flow, task


@task
async def add(x, y):
    return x + y


@flow
async def f():
    await add.submit(1, 2)
    await add(3, 4)


states = asyncio.run(f())
print([s.result() for s in states])
