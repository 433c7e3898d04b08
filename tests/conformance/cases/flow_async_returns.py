# Source: https://docs-2.prefect.io/latest/concepts/flows/ (async flows are awaited)
import asyncio

from prefect import flow


@flow
async def afl(x):
    await asyncio.sleep(0.01)
    return x * 3


print(asyncio.run(afl(4)))
