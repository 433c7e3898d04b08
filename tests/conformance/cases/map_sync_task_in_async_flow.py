# Source: https://docs-2.prefect.io/latest/concepts/tasks/#map (sync tasks can be mapped from async flows)
import asyncio

from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
async def f():
    futs = await inc.map([5, 6])
    return [await x.result() for x in futs]


print(asyncio.run(f()))
