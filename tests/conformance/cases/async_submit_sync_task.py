# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (sync tasks submitted from async flows)
import asyncio

from prefect import flow, task


@task
def double(x):
    return 2 * x


@flow
async def f():
    fut = await double.submit(5)
    return await fut.result()


print(asyncio.run(f()))
