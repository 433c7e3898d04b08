# Source: https://docs-2.prefect.io/latest/concepts/task-runners/ (async tasks submitted together run concurrently)
import asyncio

from prefect import flow, task

events = []


@task
async def a():
    events.append("a start")
    await asyncio.sleep(0.1)
    events.append("a end")


@task
async def b():
    events.append("b start")
    await asyncio.sleep(0.1)
    events.append("b end")


@flow
async def f():
    fa = await a.submit()
    fb = await b.submit()
    await fa.wait()
    await fb.wait()


asyncio.run(f())
print(sorted(events[:2]), sorted(events[2:]))
