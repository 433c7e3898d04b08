# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (a sync subflow called from an async flow)
import asyncio

from prefect import flow


@flow
def child():
    return "sync child"


@flow
async def parent():
    return child()


print(asyncio.run(parent()))
