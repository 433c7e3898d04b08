"""The constant-time estimate of a result's memory used by the flow run's result budget."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from headwater._private.states.sizing import approx_size
from headwater.states import Completed


@dataclass
class Row:
    name: str
    payload: bytes


@given(size=st.integers(0, 200_000))
def test_flat_values_weigh_their_bytes(size: int) -> None:
    assert size <= approx_size(bytes(size)) <= size + 64
    assert size <= approx_size("x" * size) <= size + 64


@given(count=st.integers(1, 300), size=st.integers(100, 5_000))
def test_uniform_containers_weigh_their_payload_plus_overhead(count: int, size: int) -> None:
    rows = [bytes(size) for _ in range(count)]
    payload = count * size
    for value in (rows, tuple(rows), dict(enumerate(rows)),
                  [Row("r", r) for r in rows]):
        assert payload <= approx_size(value) <= payload + count * 600 + 200


def test_a_state_weighs_its_result() -> None:
    assert approx_size(Completed(data=bytes(50_000))) >= 50_000
    inner = [Completed(data=bytes(10_000)) for _ in range(4)]
    assert approx_size(Completed(data=inner)) >= 40_000


def test_objects_whose_sizeof_fails_get_a_small_weight() -> None:
    class Odd:
        def __sizeof__(self) -> int:
            raise RuntimeError("no size")

    assert approx_size(Odd()) == 64
