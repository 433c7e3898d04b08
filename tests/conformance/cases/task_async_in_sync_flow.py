# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (an async task called from a sync flow returns its result)
import asyncio

from prefect import flow, task


@task
async def afetch():
    await asyncio.sleep(0.01)
    return "async result"


@flow
def f():
    return afetch()


print(f())
