# Source: https://docs-2.prefect.io/latest/concepts/tasks/ (a sync task called from an async flow runs in a worker thread)
# deliberate-difference: docs/migration.md#a-sync-task-called-directly-in-an-async-flow-runs-inline
import asyncio
import threading

from prefect import flow, task


@task
def where():
    return threading.current_thread() is threading.main_thread()


@flow
async def f():
    return where()


print("in main thread:", asyncio.run(f()))
