# Source: https://docs-2.prefect.io/latest/concepts/flows/#composing-flows (an async subflow called from a sync flow)
import asyncio

from prefect import flow


@flow
async def child():
    await asyncio.sleep(0.01)
    return "async child"


@flow
def parent():
    return child()


print(parent())
