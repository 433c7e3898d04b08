"""Which flows keep their children's results: those whose function may return None."""

from __future__ import annotations

import gc
import weakref

import pytest

from headwater import flow, task
from headwater._private.engine.returns import always_returns_value
from headwater.exceptions import MissingResult


def returns_value() -> int:
    x = 1
    return x


def returns_in_branches(flag: bool) -> int:
    if flag:
        return 1
    return 2


def falls_off_the_end(flag: bool) -> int | None:
    if flag:
        return 1
    print("no return here")
    return None


def bare_return(flag: bool) -> int:
    if flag:
        return  # type: ignore[return-value]
    return 2


def no_return() -> None:
    print("nothing")


def ends_in_raise() -> int:
    raise ValueError("never returns")


def nested_return_none() -> int:
    def inner() -> None:
        return None

    inner()
    return 3


@pytest.mark.parametrize(("fn", "expected"), [
    (returns_value, True),
    (returns_in_branches, True),
    (falls_off_the_end, False),
    (bare_return, False),
    (no_return, False),
    (ends_in_raise, True),
    (nested_return_none, True),
    (lambda: 1, False),  # a lambda's source is not a function definition
    (print, False),  # no Python source
])
def test_always_returns_value(fn, expected: bool) -> None:
    assert always_returns_value(fn) is expected


class Payload:
    """A result we can hold a weak reference to."""


def test_a_flow_returning_a_value_keeps_no_child_result_during_its_run() -> None:
    refs: list[weakref.ref[Payload]] = []

    @task
    def make() -> Payload:
        payload = Payload()
        refs.append(weakref.ref(payload))
        return payload

    @flow
    def f() -> bool:
        make.submit().wait()
        gc.collect()
        return refs[0]() is None

    assert f() is True


def test_a_flow_returning_none_at_run_time_explains_the_missing_results() -> None:
    @task
    def one() -> int:
        return 1

    def nothing() -> None:
        return None

    @flow
    def f() -> None:
        one()
        return nothing()

    (child,) = f()
    with pytest.raises(MissingResult, match="returns a value on every path"):
        child.result()
