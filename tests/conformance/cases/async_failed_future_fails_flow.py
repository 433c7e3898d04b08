# Source: https://docs-2.prefect.io/latest/concepts/flows/#final-state-determination (async flow returning a failed future)
import asyncio

from prefect import flow, task


@task
async def bad():
    raise ValueError("x")


@flow
async def f():
    return await bad.submit()


s = asyncio.run(f(return_state=True))
print(s.type.value, s.name)
