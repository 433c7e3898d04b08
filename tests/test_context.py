"""Run contexts, ``headwater.runtime`` and ``tags()``."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from headwater import flow, get_run_context, runtime, tags, task
from headwater.context import FlowRunContext, TaskRunContext
from headwater.exceptions import MissingContextError
from headwater.task_runners import ThreadPoolTaskRunner


def test_get_run_context_outside_runs() -> None:
    with pytest.raises(MissingContextError, match="inside a flow or task run"):
        get_run_context()


def test_flow_run_context() -> None:
    @flow(log_prints=False)
    def f():
        return get_run_context()

    ctx = f()
    assert isinstance(ctx, FlowRunContext)
    assert ctx.flow.name == "f"
    assert ctx.flow_run.flow_name == "f"
    assert isinstance(ctx.task_runner, ThreadPoolTaskRunner)
    assert ctx.log_prints is False


def test_task_run_context() -> None:
    @task
    def t():
        return get_run_context()

    @flow
    def f():
        return t()

    ctx = f()
    assert isinstance(ctx, TaskRunContext)
    assert ctx.task.name == "t"
    assert ctx.task_run.name == "t-0"
    assert "t-0" in repr(ctx)


def test_runtime_outside_runs() -> None:
    fr, tr = runtime.flow_run, runtime.task_run
    assert (fr.id, fr.name, fr.flow_name, fr.flow_version) == (None, None, None, None)
    assert (fr.parameters, fr.tags, fr.run_count) == ({}, [], 0)
    assert (fr.scheduled_start_time, fr.parent_flow_run_id, fr.parent_task_run_id) == (
        None, None, None)
    assert (tr.id, tr.name, tr.task_name, tr.flow_run_id) == (None, None, None, None)
    assert (tr.parameters, tr.tags, tr.run_count) == ({}, [], 0)


def test_runtime_flow_run_inside_flow() -> None:
    @flow(version="1.2", flow_run_name="run-{x}")
    def my_flow(x: int) -> dict:
        fr = runtime.flow_run
        return {"id": fr.id, "name": fr.name, "flow_name": fr.flow_name,
                "version": fr.flow_version, "parameters": fr.parameters,
                "run_count": fr.run_count, "scheduled": fr.scheduled_start_time}

    facts = my_flow(3)
    assert isinstance(facts["id"], str) and uuid.UUID(facts["id"])  # a str, as in Prefect 2
    assert facts["name"] == "run-3"
    assert facts["flow_name"] == "my-flow"
    assert facts["version"] == "1.2"
    assert facts["parameters"] == {"x": 3}
    assert facts["run_count"] == 1
    assert isinstance(facts["scheduled"], dt.datetime)


def test_runtime_task_run_inside_task() -> None:
    @task(tags=["t1"])
    def t() -> dict:
        tr = runtime.task_run
        return {"id": tr.id, "name": tr.name, "task_name": tr.task_name, "tags": tr.tags,
                "run_count": tr.run_count, "flow_run_id": tr.flow_run_id,
                "flow_id_seen": runtime.flow_run.id}

    @flow
    def f() -> tuple:
        return runtime.flow_run.id, t.submit().result()

    flow_id, facts = f()
    assert isinstance(facts["id"], str) and uuid.UUID(facts["id"])
    assert facts["name"] == "t-0" and facts["task_name"] == "t"
    assert facts["tags"] == ["t1"]
    assert facts["run_count"] == 1
    assert str(facts["flow_run_id"]) == flow_id == facts["flow_id_seen"]


def test_runtime_task_run_outside_task_inside_flow() -> None:
    @flow
    def f():
        return runtime.task_run.id, runtime.flow_run.id is not None

    assert f() == (None, True)


def test_runtime_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="nope"):
        runtime.flow_run.nope  # noqa: B018
    with pytest.raises(AttributeError, match="nope"):
        runtime.task_run.nope  # noqa: B018


def test_runtime_dir_lists_attributes() -> None:
    assert "parent_flow_run_id" in dir(runtime.flow_run)
    assert "flow_run_id" in dir(runtime.task_run)


def test_runtime_parameters_are_a_copy() -> None:
    @flow
    def f(x: int) -> dict:
        runtime.flow_run.parameters["x"] = 99
        return runtime.flow_run.parameters

    assert f(1) == {"x": 1}


def test_tags_context_manager() -> None:
    @task(tags=["own"])
    def t() -> list[str]:
        return runtime.task_run.tags

    @flow
    def f() -> tuple:
        with tags("inner"):
            task_tags = t()
        return runtime.flow_run.tags, task_tags

    with tags("a", "b") as current:
        assert current == frozenset({"a", "b"})
        flow_tags, task_tags = f()
    assert flow_tags == ["a", "b"]
    assert task_tags == ["a", "b", "inner", "own"]

    @flow
    def untagged() -> list[str]:
        return runtime.flow_run.tags

    assert untagged() == []


def test_nested_tags_union() -> None:
    with tags("x"), tags("y") as current:
        assert current == frozenset({"x", "y"})


def test_run_records_are_read_only() -> None:
    @task
    def t():
        return get_run_context()

    @flow
    def f():
        return get_run_context(), t()

    flow_ctx, task_ctx = f()
    with pytest.raises(AttributeError):
        flow_ctx.flow_run.name = "renamed"
    with pytest.raises(AttributeError):
        flow_ctx.flow_run.id = uuid.uuid4()
    with pytest.raises(AttributeError):
        task_ctx.task_run.name = "renamed"
    with pytest.raises(AttributeError):
        task_ctx.task_run.tags = ["x"]
    with pytest.raises(AttributeError):
        flow_ctx.flow = None
    with pytest.raises(AttributeError):
        task_ctx.task_run.new_attribute = 1


def test_hook_run_argument_is_read_only() -> None:
    errors = []

    def hook(flow_, run, state):
        try:
            run.name = "changed"
        except AttributeError as exc:
            errors.append(exc)

    @flow(on_completion=[hook], flow_run_name="fixed")
    def f() -> str:
        return runtime.flow_run.name

    assert f() == "fixed"
    assert len(errors) == 1


def test_submitted_task_sees_flow_context_in_worker_thread() -> None:
    import threading

    @task
    def where() -> tuple:
        return threading.current_thread().name, runtime.flow_run.name

    @flow(flow_run_name="ctx-run")
    def f() -> tuple:
        return where.submit().result()

    thread_name, flow_run_name = f()
    assert flow_run_name == "ctx-run"
    assert thread_name.startswith("headwater-task")


def test_random_flow_run_names() -> None:
    @flow
    def f() -> str:
        return runtime.flow_run.name

    names = {f() for _ in range(5)}
    for name in names:
        adjective, animal = name.split("-")
        assert adjective.isalpha() and animal.isalpha()


def test_context_get_is_none_outside_runs() -> None:
    assert FlowRunContext.get() is None and TaskRunContext.get() is None

    @task
    def t() -> bool:
        return TaskRunContext.get() is get_run_context()

    @flow
    def f() -> tuple:
        return FlowRunContext.get() is get_run_context(), TaskRunContext.get(), t()

    assert f() == (True, None, True)
