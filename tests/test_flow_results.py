"""A flow's own return value is persisted like a task's when its options say so."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from headwater import flow
from headwater.exceptions import SerializationError
from headwater.results import ResultRecord


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HEADWATER_LOCAL_STORAGE_PATH", raising=False)
    return tmp_path / "home"


def test_persisted_flow_result_keeps_only_the_record_and_loads_on_demand(home: Path) -> None:
    @flow(persist_result=True, cache_result_in_memory=False)
    def totals(n: int) -> dict:
        return {"n": n, "total": n * 10}

    state = totals(4, return_state=True)
    assert isinstance(state.data, ResultRecord)
    assert state.result() == {"n": 4, "total": 40}
    assert totals(5) == {"n": 5, "total": 50}
    assert len(list((home / "storage").iterdir())) == 2


def test_flow_results_stay_in_memory_by_default(home: Path) -> None:
    @flow
    def plain() -> int:
        return 1

    assert plain() == 1
    assert not (home / "storage").exists()


def test_persist_by_default_setting_persists_flow_results(home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_RESULTS_PERSIST_BY_DEFAULT", "true")

    @flow
    def plain() -> int:
        return 1

    assert plain() == 1
    assert len(list((home / "storage").iterdir())) == 1


def test_an_unpicklable_flow_result_fails_the_run_with_the_fixes(home: Path) -> None:
    @flow(persist_result=True)
    def locked() -> object:
        return threading.Lock()

    state = locked(return_state=True)
    assert state.is_failed()
    with pytest.raises(SerializationError, match="persist_result=False"):
        state.result()


def test_a_record_can_be_read_back_in_another_process(home: Path, tmp_path: Path) -> None:
    @flow(persist_result=True, cache_result_in_memory=False)
    def answer() -> list:
        return [42]

    record = answer(return_state=True).data
    code = (
        "import pickle, sys; record = pickle.loads(sys.stdin.buffer.read()); "
        "print(record.load())"
    )
    import pickle

    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(record),
                         capture_output=True, env={**os.environ}, check=True, timeout=60)
    assert out.stdout.decode().strip() == "[42]"
