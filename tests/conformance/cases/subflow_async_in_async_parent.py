# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (awaiting an async subflow)
import asyncio

from prefect import flow


@flow
async def child(x):
    return x + 1


@flow
async def parent():
    return await child(1), await child(2)


print(asyncio.run(parent()))
