# Source: https://docs-2.prefect.io/latest/concepts/tasks/#retries (retries on async tasks)
import asyncio

from prefect import flow, task

calls = []


@task(retries=2, retry_delay_seconds=0)
async def t():
    calls.append(1)
    if len(calls) < 3:
        raise ValueError("again")
    return "async ok"


@flow
async def f():
    return await t()


print(asyncio.run(f()), len(calls))
