# Source: https://docs-2.prefect.io/latest/concepts/states/ (return_state=True on an async flow)
import asyncio

from prefect import flow


@flow
async def afl():
    raise ValueError("async failure")


state = asyncio.run(afl(return_state=True))
print(state.type.value, state.name)
print(type(state.result(raise_on_failure=False)).__name__)
