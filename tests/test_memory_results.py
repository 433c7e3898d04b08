"""Memory with persistence and caching: the engine holds only what it was asked to."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from headwater import flow, task
from headwater.results import ResultRecord
from headwater.tasks import task_input_hash


class Payload:
    """A value we can hold a weak reference to (and pickle)."""

    def __init__(self, i: int = 0) -> None:
        self.i = i


refs: list[weakref.ref[Payload]] = []


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    refs.clear()
    monkeypatch.setenv("HEADWATER_LOCAL_STORAGE_PATH", str(tmp_path / "storage"))
    yield tmp_path / "storage"
    refs.clear()


def track(payload: Payload) -> Payload:
    refs.append(weakref.ref(payload))
    return payload


def live() -> int:
    gc.collect()
    return sum(r() is not None for r in refs)


@task(persist_result=True, cache_result_in_memory=False)
def make(i: int) -> Payload:
    return track(Payload(i))


@task(persist_result=True)
def make_kept(i: int) -> Payload:
    return track(Payload(i))


@task(persist_result=True)
def consume(payload: Payload) -> int:
    return payload.i


def test_mapped_persisted_results_are_released_after_the_flow() -> None:
    @flow
    def f() -> None:
        make_kept.map(range(200))

    f()
    assert len(refs) == 200 and live() == 0


def test_held_futures_keep_only_records_without_memory_cache() -> None:
    @flow
    def f() -> dict:
        futures = make.map(range(50))
        futures.wait()
        return {"futures": futures}  # a plain value: the futures become their states

    states = f()["futures"]
    assert len(refs) == 50 and live() == 0  # states held, payloads not
    assert all(isinstance(s.data, ResultRecord) for s in states)
    assert [s.result().i for s in states[:3]] == [0, 1, 2]  # loaded on demand


def test_held_futures_keep_results_with_memory_cache() -> None:
    @flow
    def f() -> dict:
        futures = make_kept.map(range(5))
        futures.wait()
        return {"futures": futures}

    futures = f()["futures"]
    assert live() == 5
    del futures
    assert live() == 0


def test_inputs_are_released_after_persisted_runs() -> None:
    @flow
    def f() -> int:
        total = 0
        for i in range(20):
            total += consume(track(Payload(i)))
        return total

    assert f() == sum(range(20))
    assert live() == 0


def test_cache_hits_without_memory_cache_hold_no_values() -> None:
    @task(cache_key_fn=task_input_hash, cache_result_in_memory=False)
    def cached(i: int) -> Payload:
        return track(Payload(i))

    @flow
    def f() -> list:
        first = [cached.submit(i) for i in range(10)]
        for fut in first:
            fut.wait()
        return [cached(i, return_state=True) for i in range(10)]

    states = f()
    assert [s.name for s in states] == ["Cached"] * 10
    assert live() == 0
    assert states[3].result().i == 3
