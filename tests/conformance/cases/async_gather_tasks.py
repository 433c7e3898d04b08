# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (async tasks awaited concurrently with asyncio.gather)
import asyncio

from prefect import flow, task


@task
async def t(x):
    await asyncio.sleep(0.05)
    return x * x


@flow
async def f():
    return await asyncio.gather(t(1), t(2), t(3))


print(asyncio.run(f()))
