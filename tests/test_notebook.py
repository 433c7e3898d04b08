"""Sync flows called where an event loop already runs in the main thread (notebooks).

A real notebook, executed in an IPython kernel, is tests/test_notebook_kernel.py;
these tests cover more cases (submit, map, hooks, failures) under a running loop.
"""

from __future__ import annotations

import asyncio

import pytest

from headwater import flow, task


@task
def sync_add(x: int, y: int) -> int:
    return x + y


@task
async def async_add(x: int, y: int) -> int:
    await asyncio.sleep(0)
    return x + y


@flow
def notebook_flow(x: int) -> dict:
    direct = sync_add(x, 1)
    awaited_for_me = async_add(x, 2)  # async task from a sync flow: a plain result
    submitted = sync_add.submit(x, 3).result()
    submitted_async = async_add.submit(x, 4).result()
    mapped = async_add.map([1, 2], x).result()
    return {"direct": direct, "async": awaited_for_me, "submitted": submitted,
            "submitted_async": submitted_async, "mapped": mapped}


EXPECTED = {"direct": 11, "async": 12, "submitted": 13, "submitted_async": 14,
            "mapped": [11, 12]}


@pytest.mark.anyio
async def test_sync_flow_inside_running_loop() -> None:
    assert notebook_flow(10) == EXPECTED


@pytest.mark.anyio
async def test_sync_flow_return_state_inside_running_loop() -> None:
    state = notebook_flow(10, return_state=True)
    assert state.is_completed()
    assert state.result() == EXPECTED


@pytest.mark.anyio
async def test_async_subflow_of_sync_flow_inside_running_loop() -> None:
    @flow
    async def inner() -> int:
        return await async_add(1, 1)

    @flow
    def outer() -> int:
        return inner() + 1

    assert outer() == 3


@pytest.mark.anyio
async def test_sync_flow_with_failing_async_task_inside_running_loop() -> None:
    @task
    async def boom() -> None:
        raise ValueError("async boom")

    @flow
    def f() -> None:
        boom()

    with pytest.raises(ValueError, match="async boom"):
        f()


@pytest.mark.anyio
async def test_state_result_fetch_in_sync_flow_inside_running_loop() -> None:
    """Sync flow code cannot ``await``; Prefect 2's ``fetch=True`` must just work there."""

    @flow
    def f() -> int:
        state = sync_add(1, 2, return_state=True)
        return state.result(fetch=True)

    assert f() == 3


@pytest.mark.anyio
async def test_async_hook_of_sync_flow_inside_running_loop() -> None:
    seen = []

    async def hook(flow_, run, state):
        seen.append(state.type.value)

    @flow(on_completion=[hook])
    def f() -> None:
        pass

    f()
    assert seen == ["COMPLETED"]
