# Source: https://docs-2.prefect.io/latest/api-ref/prefect/tasks/#prefect.tasks.Task.submit (a sync task submitted from an async flow is not awaited; its future's result() blocks)
# deliberate-difference: docs/migration.md#blocking-future-methods-raise-in-async-code
import asyncio

from prefect import flow, task


@task
def double(x):
    return 2 * x


@flow
async def f():
    fut = double.submit(5)
    try:
        return fut.result()
    except Exception as exc:
        return type(exc).__name__


print(asyncio.run(f()))
