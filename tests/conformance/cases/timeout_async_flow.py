# Source: https://docs-2.prefect.io/latest/concepts/flows/#timeouts (async flows are cancelled at the timeout)
import asyncio

from prefect import flow


@flow(timeout_seconds=0.1)
async def slow():
    await asyncio.sleep(1)


s = asyncio.run(slow(return_state=True))
print(s.type.value, s.name, s.message)
