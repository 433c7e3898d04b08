# Source: https://docs-2.prefect.io/latest/concepts/flows/ (an async flow's exception reaches the awaiting caller)
import asyncio

from prefect import flow


@flow
async def afl():
    raise LookupError("nope")


try:
    asyncio.run(afl())
except LookupError as exc:
    print("caught", exc)
