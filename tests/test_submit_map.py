"""``Task.submit`` and ``Task.map``: futures, zipping, unmapped, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import flow, task, unmapped
from headwater.exceptions import MappingLengthMismatch, MappingMissingIterable
from headwater.futures import HeadwaterFuture, HeadwaterFutureList
from headwater.states import State


@task
def add(x: int, y: int = 0) -> int:
    return x + y


@task
def echo(x):
    return x


@task
def length(xs) -> int:
    return len(xs)


def in_flow(fn):
    """Run ``fn`` as the body of a throwaway flow and return its result."""
    return flow(fn, name="wrapper")()


def test_submit_returns_future_at_once() -> None:
    def body():
        future = add.submit(1, 2)
        assert isinstance(future, HeadwaterFuture)
        return future.result()

    assert in_flow(body) == 3


def test_submit_return_state() -> None:
    def body():
        state = add.submit(1, 2, return_state=True)
        assert isinstance(state, State)
        return state.result()

    assert in_flow(body) == 3


def test_map_returns_future_list() -> None:
    def body():
        futures = add.map([1, 2, 3], 10)
        assert isinstance(futures, HeadwaterFutureList)
        assert all(isinstance(f, HeadwaterFuture) for f in futures)
        return futures.result()

    assert in_flow(body) == [11, 12, 13]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(), max_size=20), st.integers())
def test_map_equals_plain_map(xs: list[int], y: int) -> None:
    result = in_flow(lambda: add.map(xs, unmapped(y)).result())
    assert result == [x + y for x in xs]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(), st.integers()), max_size=15))
def test_map_zips_iterables(pairs: list[tuple[int, int]]) -> None:
    xs = [a for a, _ in pairs]
    ys = [b for _, b in pairs]
    assert in_flow(lambda: add.map(xs, y=ys).result()) == [a + b for a, b in pairs]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(), min_size=1, max_size=10),
       st.lists(st.integers(), max_size=10))
def test_unmapped_list_is_passed_whole(xs: list[int], whole: list[int]) -> None:
    @task
    def pair(x, ys):
        return (x, ys)

    result = in_flow(lambda: pair.map(xs, unmapped(whole)).result())
    assert result == [(x, whole) for x in xs]


@pytest.mark.parametrize("value", ["abc", b"abc", {"a": 1}])
def test_str_bytes_dict_are_not_mapped(value) -> None:
    @task
    def pair(x, v):
        return (x, v)

    assert in_flow(lambda: pair.map([1, 2], value).result()) == [(1, value), (2, value)]


@pytest.mark.parametrize("value", ["abc", b"abc", {"a": 1}])
def test_only_non_iterables_raise_missing_iterable(value) -> None:
    def body():
        with pytest.raises(MappingMissingIterable, match="no iterable"):
            echo.map(value)
        return True

    assert in_flow(body)


def test_map_with_no_iterable_names_arguments() -> None:
    def body():
        with pytest.raises(MappingMissingIterable, match=r"x=int, y=int"):
            add.map(1, 2)
        return True

    assert in_flow(body)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 6), st.integers(0, 6))
def test_map_length_mismatch(n: int, m: int) -> None:
    def body():
        if n == m:
            return len(add.map(list(range(n)), list(range(m))).result())
        with pytest.raises(MappingLengthMismatch) as info:
            add.map(list(range(n)), list(range(m)))
        return str(info.value)

    result = in_flow(body)
    if n == m:
        assert result == n
    else:
        assert f"'x' has {n}" in result and f"'y' has {m}" in result


def test_map_over_generator_tuple_and_range() -> None:
    def body():
        return (add.map(i for i in range(3)).result(), add.map((1, 2)).result(),
                add.map(range(2), 5).result())

    assert in_flow(body) == ([0, 1, 2], [1, 2], [5, 6])


def test_map_over_future_maps_its_result() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    def body():
        return add.map(numbers.submit(), 1).result()

    assert in_flow(body) == [2, 3, 4]


def test_map_with_futures_as_items() -> None:
    def body():
        firsts = add.map([1, 2, 3], 1)
        return add.map(firsts, 10).result()

    assert in_flow(body) == [12, 13, 14]


def test_map_return_state() -> None:
    def body():
        states = add.map([1, 2], return_state=True)
        assert all(isinstance(s, State) and s.is_completed() for s in states)
        return [s.result() for s in states]

    assert in_flow(body) == [1, 2]


def test_map_empty_list() -> None:
    assert in_flow(lambda: add.map([]).result()) == []


def test_mapped_run_names_are_numbered() -> None:
    def body():
        return sorted(f.task_run.name for f in add.map([1, 2, 3]))

    assert in_flow(body) == ["add-0", "add-1", "add-2"]


def test_submit_outside_a_flow() -> None:
    future = add.submit(2, 3)
    assert future.result(timeout=10) == 5


def test_map_failures_are_per_item() -> None:
    @task
    def invert(x: int) -> float:
        return 1 / x

    def body():
        futures = invert.map([1, 0, 2])
        return [f.wait().type.value for f in futures]

    state = flow(body, name="wrapper")(return_state=True)
    assert state.is_completed()  # returned a plain value
    assert state.result() == ["COMPLETED", "FAILED", "COMPLETED"]
