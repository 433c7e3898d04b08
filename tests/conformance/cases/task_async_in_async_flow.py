# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (async tasks are awaited in async flows)
import asyncio

from prefect import flow, task


@task
async def fetch(x):
    await asyncio.sleep(0.01)
    return x + 100


@flow
async def f():
    return await fetch(1)


print(asyncio.run(f()))
