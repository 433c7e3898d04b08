# Source: https://docs-2.prefect.io/latest/concepts/task-runners/#using-results-from-submitted-tasks (in async flows, submit and result are awaited)
import asyncio

from prefect import flow, task


@task
async def double(x):
    return 2 * x


@flow
async def f():
    fut = await double.submit(21)
    return await fut.result()


print(asyncio.run(f()))
