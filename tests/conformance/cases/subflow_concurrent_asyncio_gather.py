# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (async subflows can run concurrently with asyncio.gather)
import asyncio

from prefect import flow


@flow
async def child(x):
    await asyncio.sleep(0.05)
    return x


@flow
async def parent():
    return await asyncio.gather(child(1), child(2), child(3))


print(asyncio.run(parent()))
