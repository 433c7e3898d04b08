# Source: https://docs-2.prefect.io/latest/concepts/states/ (await task.submit(return_state=True) in async flows)
import asyncio

from prefect import flow, task


@task
async def t():
    return 11


@flow
async def f():
    state = await t.submit(return_state=True)
    return state.type.value, await state.result(fetch=True)


print(asyncio.run(f()))
