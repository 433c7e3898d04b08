# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (an async task awaiting another async task, since 2.18)
import asyncio

from prefect import flow, task


@task
async def inner(x):
    return x * 3


@task
async def outer(x):
    return await inner(x) + 1


@flow
async def main():
    return await outer(2)


print(asyncio.run(main()))
