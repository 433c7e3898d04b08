"""Flows calling flows: nesting, sync/async mixes, parent ids, failures."""

from __future__ import annotations

import pytest

from headwater import flow, runtime, task
from headwater.states import StateType


def ids() -> dict:
    # ids compared as text: flow_run.id is a str (Prefect 2), the parent ids UUIDs
    parent, parent_task = runtime.flow_run.parent_flow_run_id, runtime.flow_run.parent_task_run_id
    return {"id": runtime.flow_run.id, "parent": parent and str(parent),
            "parent_task": parent_task and str(parent_task)}


@flow
def level3() -> list[dict]:
    return [ids()]


@flow
def level2() -> list[dict]:
    return [ids(), *level3()]


@flow
def level1() -> list[dict]:
    return [ids(), *level2()]


def test_nested_three_deep_links_parents() -> None:
    one, two, three = level1()
    assert one["parent"] is None
    assert two["parent"] == one["id"]
    assert three["parent"] == two["id"]
    assert len({one["id"], two["id"], three["id"]}) == 3


@flow
async def async_leaf() -> dict:
    return ids()


@flow
def sync_middle() -> list[dict]:
    return [ids(), async_leaf()]  # async flow called from sync flow: returns the result


@flow
async def async_top() -> list[dict]:
    return [ids(), *sync_middle()]  # sync flow called from async flow


@pytest.mark.anyio
async def test_async_sync_async_nesting() -> None:
    top, middle, leaf = await async_top()
    assert top["parent"] is None
    assert middle["parent"] == top["id"]
    assert leaf["parent"] == middle["id"]


def test_sync_async_sync_nesting() -> None:
    @flow
    def inner() -> dict:
        return ids()

    @flow
    async def middle() -> list[dict]:
        return [ids(), inner()]

    @flow
    def outer() -> list[dict]:
        return [ids(), *middle()]

    top, mid, leaf = outer()
    assert mid["parent"] == top["id"]
    assert leaf["parent"] == mid["id"]


def test_subflow_called_from_task_records_parent_task() -> None:
    @flow
    def child() -> dict:
        return ids()

    @task
    def calls_child() -> tuple:
        return runtime.task_run.id, child()

    @flow
    def parent() -> tuple:
        return runtime.flow_run.id, calls_child()

    parent_id, (task_id, child_ids) = parent()
    assert child_ids["parent_task"] == task_id
    assert child_ids["parent"] == parent_id


def test_subflow_failure_propagates_to_caller() -> None:
    @flow
    def child() -> None:
        raise ValueError("child broke")

    @flow
    def parent() -> None:
        child()

    state = parent(return_state=True)
    assert state.is_failed()
    with pytest.raises(ValueError, match="child broke"):
        parent()


def test_subflow_return_state() -> None:
    @flow
    def child() -> None:
        raise ValueError("child broke")

    @flow
    def parent() -> tuple:
        state = child(return_state=True)
        return state.type, state.message

    kind, message = parent()
    assert kind is StateType.FAILED
    assert "child broke" in message


def test_none_parent_aggregates_subflow_states() -> None:
    @flow
    def good() -> int:
        return 1

    @flow
    def bad() -> None:
        raise ValueError("x")

    @flow
    def parent() -> None:
        good()
        bad(return_state=True)

    state = parent(return_state=True)
    assert state.is_failed()
    assert state.message == "1/2 states failed."


def test_subflow_has_own_task_run_counter() -> None:
    @task
    def name() -> str:
        return runtime.task_run.name

    @flow
    def child() -> str:
        return name()

    @flow
    def parent() -> list[str]:
        return [name(), child(), name()]

    assert parent() == ["name-0", "name-0", "name-1"]


def test_subflow_flow_names() -> None:
    @flow(name="the-child")
    def child() -> str:
        return runtime.flow_run.flow_name

    @flow
    def my_parent() -> tuple[str, str]:
        return runtime.flow_run.flow_name, child()

    assert my_parent() == ("my-parent", "the-child")
