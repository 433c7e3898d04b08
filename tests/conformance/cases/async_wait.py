# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (await future.wait() in async flows)
import asyncio

from prefect import flow, task


@task
async def t():
    return "waited"


@flow
async def f():
    fut = await t.submit()
    state = await fut.wait()
    return state.name, await state.result(fetch=True)


print(asyncio.run(f()))
