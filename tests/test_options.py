"""Task and flow options: defaults, with_options, validation."""

from __future__ import annotations

import contextvars
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import flow, task
from headwater.exceptions import InvalidOptionError
from headwater.task_runners import ConcurrentTaskRunner, SequentialTaskRunner, ThreadPoolTaskRunner


def double(x: int) -> int:
    """Double a number."""
    return 2 * x


def my_flow() -> None:
    """A flow."""


def test_task_defaults() -> None:
    t = task(double)
    assert t.name == "double"
    assert t.description == "Double a number."
    assert t.retries == 0
    assert t.retry_delay_seconds == 0
    assert t.timeout_seconds is None
    assert t.tags == frozenset()
    assert t.cache_result_in_memory is True


def test_flow_defaults() -> None:
    f = flow(my_flow)
    assert f.name == "my-flow"
    assert f.description == "A flow."
    assert f.retries == 0
    assert f.validate_parameters is True
    assert isinstance(f.task_runner, ConcurrentTaskRunner)  # Prefect 2's default


def test_task_with_options_keeps_other_options() -> None:
    original = task(double, name="orig", retries=2, tags=["a"], timeout_seconds=5,
                    retry_delay_seconds=[1, 2])
    changed = original.with_options(name="changed")
    assert changed.name == "changed"
    assert changed.retries == 2
    assert changed.tags == frozenset({"a"})
    assert changed.timeout_seconds == 5
    assert changed.retry_delay_seconds == [1, 2]
    assert changed.fn is double
    assert original.name == "orig"


def test_task_with_options_can_set_none() -> None:
    original = task(double, timeout_seconds=5)
    assert original.with_options(timeout_seconds=None).timeout_seconds is None


def test_task_with_options_tags_replace() -> None:
    t = task(double, tags=["a"]).with_options(tags=["b", "c"])
    assert t.tags == frozenset({"b", "c"})


def test_flow_with_options_keeps_other_options() -> None:
    original = flow(my_flow, name="orig", retries=1, version="3", log_prints=True,
                    task_runner=SequentialTaskRunner())
    changed = original.with_options(retries=4)
    assert changed.retries == 4
    assert changed.name == "orig"
    assert changed.version == "3"
    assert changed.log_prints is True
    assert isinstance(changed.task_runner, SequentialTaskRunner)
    assert original.retries == 1


def test_with_options_copy_runs() -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def f() -> int:
        return add.with_options(name="plus")(1, 2)

    assert f.with_options(name="other")() == 3


def test_task_runner_class_is_accepted() -> None:
    f = flow(my_flow, task_runner=SequentialTaskRunner)
    assert isinstance(f.task_runner, SequentialTaskRunner)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"retries": -1}, "retries must be a whole number"),
        ({"retries": 1.5}, "retries must be a whole number"),
        ({"retries": True}, "retries must be a whole number"),
        ({"retry_delay_seconds": -1}, "retry_delay_seconds must be zero or more"),
        ({"retry_delay_seconds": "10"}, "retry_delay_seconds must be a number"),
        ({"retry_delay_seconds": [1, -2]}, "each retry delay must be zero or more"),
        ({"retry_delay_seconds": [1] * 51}, "at most 50"),
        ({"retry_jitter_factor": -0.1}, "retry_jitter_factor"),
        ({"name": "a/b"}, "contains '/'"),
        ({"timeout_seconds": 0}, "timeout_seconds must be more than zero"),
        ({"cache_expiration": 60}, "timedelta"),
        ({"task_run_name": 5}, "task_run_name must be"),
        ({"on_completion": [None]}, "not callable"),
    ],
)
def test_invalid_task_options(options: dict, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        task(double, **options)
    with pytest.raises(InvalidOptionError, match=match):
        task(double).with_options(**options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"retries": -1}, "retries must be a whole number"),
        ({"retry_delay_seconds": [1, 2]}, "must be a number, not a list"),
        ({"retry_delay_seconds": lambda n: [1]}, "must be a number"),
        ({"name": "x&y"}, "contains '&'"),
        ({"timeout_seconds": -3}, "timeout_seconds"),
        ({"flow_run_name": 1}, "flow_run_name must be"),
        ({"task_runner": "threads"}, "task_runner must be a TaskRunner"),
        ({"on_crashed": ["x"]}, "not callable"),
    ],
)
def test_invalid_flow_options(options: dict, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        flow(my_flow, **options)
    with pytest.raises(InvalidOptionError, match=match):
        flow(my_flow).with_options(**options)


def test_empty_name_rejected_by_with_options() -> None:
    with pytest.raises(InvalidOptionError, match="non-empty string"):
        task(double).with_options(name="")
    with pytest.raises(InvalidOptionError, match="non-empty string"):
        flow(my_flow).with_options(name="")


def test_failing_flow_run_name_leaves_no_run_context_behind() -> None:
    from headwater import get_run_context
    from headwater.exceptions import MissingContextError

    def attempt() -> None:
        f = flow(my_flow, flow_run_name=lambda: "")
        with pytest.raises(InvalidOptionError):
            f()
        with pytest.raises(MissingContextError):
            get_run_context()

    # A fresh context confines a leak to this test instead of every later one.
    contextvars.copy_context().run(attempt)


def test_cache_expiration_timedelta_accepted() -> None:
    assert task(double, cache_expiration=dt.timedelta(hours=1)).cache_expiration == (
        dt.timedelta(hours=1))


def test_decorating_non_callable_raises() -> None:
    with pytest.raises(TypeError, match="not callable"):
        task(3)
    with pytest.raises(TypeError, match="not callable"):
        flow("x")


@settings(max_examples=50, deadline=None)
@given(st.integers(-5, 60))
def test_retries_validation(retries: int) -> None:
    if retries >= 0:
        assert task(double, retries=retries).retries == retries
    else:
        with pytest.raises(InvalidOptionError):
            task(double, retries=retries)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 100, allow_nan=False), max_size=60))
def test_retry_delay_list_validation(delays: list[float]) -> None:
    valid = len(delays) <= 50 and all(d >= 0 for d in delays)
    if valid:
        assert task(double, retry_delay_seconds=delays).retry_delay_seconds == delays
    else:
        with pytest.raises(InvalidOptionError):
            task(double, retry_delay_seconds=delays)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=10))
def test_task_name_validation(name: str) -> None:
    if any(c in name for c in "/%&><"):
        with pytest.raises(InvalidOptionError, match="Rename it"):
            task(double, name=name)
    else:
        assert task(double, name=name).name == name


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_thread_pool_max_workers_validation(bad) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        ThreadPoolTaskRunner(max_workers=bad)


def test_flow_run_name_template_with_unknown_field() -> None:
    f = flow(my_flow, flow_run_name="run-{missing}")
    with pytest.raises(InvalidOptionError, match="missing"):
        f()


def test_flow_run_name_callable_must_return_string() -> None:
    def attempt() -> None:
        f = flow(my_flow, flow_run_name=lambda: "")
        with pytest.raises(InvalidOptionError, match="non-empty string"):
            f()

    contextvars.copy_context().run(attempt)  # see the run-context leak test below


def test_unknown_option_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="not_an_option"):
        task(double).not_an_option  # noqa: B018


def test_failing_task_run_name_callable_fails_the_submitted_run() -> None:
    from conftest import run_in_thread

    @task(task_run_name=lambda: "")
    def badly_named() -> int:
        return 1

    @flow
    def f() -> None:
        badly_named.submit()

    state = run_in_thread(lambda: f(return_state=True), seconds=5)
    assert state.is_failed()
    with pytest.raises(InvalidOptionError, match="task_run_name"):
        state.result()


def test_options_read_back_as_in_prefect_2() -> None:
    t = task(double, timeout_seconds=30, tags=["b", "a"])
    assert (t.timeout_seconds, t.retry_delay_seconds) == (30.0, 0.0)
    assert isinstance(t.timeout_seconds, float)
    assert t.tags == {"a", "b"} and isinstance(t.tags, set)
    t.tags.add("c")  # a copy: the options stay frozen and hashable
    assert t.tags == {"a", "b"}
    assert hash(t.options) == hash(t.options)
    assert task(double, retry_delay_seconds=5).retry_delay_seconds == 5


def test_bad_names_and_hooks_raise_prefect_2_s_classes() -> None:
    from headwater.exceptions import InvalidHookError, InvalidNameError

    with pytest.raises(InvalidNameError, match="contains '/'"):
        flow(my_flow, name="a/b")
    with pytest.raises(TypeError, match="not callable") as info:
        task(double, on_completion=["not a function"])  # type: ignore[list-item]
    assert isinstance(info.value, InvalidHookError)


@pytest.mark.parametrize("reserved", ["return_state", "wait_for"])
def test_reserved_parameter_names_are_refused(reserved: str) -> None:
    from headwater.exceptions import ReservedArgumentError

    namespace: dict = {}
    exec(f"def fn({reserved}): return 1", namespace)
    for decorate in (task, flow):
        with pytest.raises(ReservedArgumentError, match=reserved):
            decorate(namespace["fn"])
