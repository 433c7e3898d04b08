# Source: https://docs-2.prefect.io/latest/concepts/tasks/#timeouts (async tasks are cancelled at the timeout)
import asyncio

from prefect import flow, task


@task(timeout_seconds=0.1)
async def slow():
    await asyncio.sleep(1)


@flow
async def f():
    s = await slow(return_state=True)
    return s.type.value, s.name


print(asyncio.run(f()))
