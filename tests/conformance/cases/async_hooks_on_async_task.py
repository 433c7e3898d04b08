# Source: https://docs-2.prefect.io/latest/concepts/states/#state-change-hooks (hooks on async tasks)
import asyncio

from prefect import flow, task

seen = []


@task(on_completion=[lambda task, task_run, state: seen.append(state.name)])
async def t():
    return 1


@flow
async def f():
    await t()


asyncio.run(f())
print(seen)
