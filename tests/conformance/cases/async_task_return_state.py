# Source: https://docs-2.prefect.io/latest/concepts/states/ (await an async task with return_state=True)
import asyncio

from prefect import flow, task


@task
async def bad():
    raise ValueError("x")


@flow
async def f():
    s = await bad(return_state=True)
    return s.type.value, s.name


print(asyncio.run(f()))
