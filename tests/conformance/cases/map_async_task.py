# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (async tasks can be mapped in async flows)
import asyncio

from prefect import flow, task


@task
async def ainc(x):
    await asyncio.sleep(0.01)
    return x + 1


@flow
async def f():
    futs = await ainc.map([1, 2, 3])
    return [await x.result() for x in futs]


print(asyncio.run(f()))
