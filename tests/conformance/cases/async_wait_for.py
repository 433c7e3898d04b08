# Source: https://docs-2.prefect.io/latest/concepts/tasks/#wait-for (wait_for in async flows)
import asyncio

from prefect import flow, task

order = []


@task
async def first():
    await asyncio.sleep(0.05)
    order.append("first")


@task
async def second():
    order.append("second")


@flow
async def f():
    a = await first.submit()
    b = await second.submit(wait_for=[a])
    await b.wait()
    return order


print(asyncio.run(f()))
