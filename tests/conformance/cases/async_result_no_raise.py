# Source: https://docs-2.prefect.io/latest/api-ref/prefect/futures/ (await future.result(raise_on_failure=False))
import asyncio

from prefect import flow, task


@task
async def bad():
    raise ValueError("async task failed")


@flow
async def f():
    fut = await bad.submit()
    exc = await fut.result(raise_on_failure=False)
    return type(exc).__name__, str(exc)


print(asyncio.run(f()))
