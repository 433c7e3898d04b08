# Source: https://docs-2.prefect.io/latest/api-ref/prefect/tasks/#prefect.tasks.Task.map (a sync task mapped from an async flow is not awaited)
# deliberate-difference: docs/migration.md#blocking-future-methods-raise-in-async-code
import asyncio

from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
async def f():
    futs = inc.map([5, 6])
    return [x.wait().name for x in futs]


print(asyncio.run(f()))
