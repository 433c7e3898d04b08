"""Caching: cache_key_fn and cache policies, stable keys, hits across processes, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from headwater import flow, task
from headwater.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NONE,
    RUN_ID,
    TASK_SOURCE,
    CachePolicy,
    Inputs,
)
from headwater.caching import explain_cache_key, stable_hash
from headwater.exceptions import InvalidOptionError
from headwater.states import Completed
from headwater.tasks import task_input_hash


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "storage"
    monkeypatch.setenv("HEADWATER_LOCAL_STORAGE_PATH", str(path))
    return path


def counted(**options):
    """A task counting its calls in ``fn.calls``."""
    calls: list[object] = []

    def double(x: object, debug: bool = False) -> object:
        calls.append(x)
        return x * 2 if isinstance(x, int) else type(x).__name__

    t = task(double, **options)
    t.calls = calls  # type: ignore[attr-defined]
    return t


# ---------------------------------------------------------------------- Prefect 2 style
@pytest.mark.parametrize("persist", [False, None])
def test_task_input_hash_caches(persist: bool | None) -> None:
    t = counted(cache_key_fn=task_input_hash, persist_result=persist)

    @flow
    def f() -> tuple[str, str, int]:
        first = t(21, return_state=True)
        second = t(21, return_state=True)
        return first.name, second.name, second.result()

    assert f() == ("Completed", "Cached", 42)
    assert t.calls == [21]


def test_cached_state_details(storage: Path) -> None:
    t = counted(cache_key_fn=task_input_hash, cache_expiration=dt.timedelta(hours=1))
    t(1)
    state = t(1, return_state=True)
    assert state.name == "Cached" and state.is_completed()
    assert state.state_details.cache_key is not None
    assert state.state_details.cache_expiration > dt.datetime.now(dt.timezone.utc)


@pytest.mark.parametrize("persist", [False, None])
def test_expired_entry_is_a_miss(persist: bool | None) -> None:
    t = counted(cache_key_fn=task_input_hash, persist_result=persist,
                cache_expiration=dt.timedelta(milliseconds=50))
    t(1)
    assert t(1, return_state=True).name == "Cached"
    time.sleep(0.08)
    assert t(1, return_state=True).name == "Completed"
    assert t.calls == [1, 1]


@pytest.mark.parametrize("persist", [False, None])
def test_refresh_cache_option_recomputes_and_stores(persist: bool | None) -> None:
    t = counted(cache_key_fn=task_input_hash, persist_result=persist)
    t(1)
    assert t.with_options(refresh_cache=True)(1, return_state=True).name == "Completed"
    assert t(1, return_state=True).name == "Cached"
    assert t.calls == [1, 1]


def test_refresh_cache_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    t = counted(cache_key_fn=task_input_hash)
    t(1)
    monkeypatch.setenv("HEADWATER_TASKS_REFRESH_CACHE", "true")
    assert t(1, return_state=True).name == "Completed"
    assert t.with_options(refresh_cache=False)(1, return_state=True).name == "Cached"


def test_custom_cache_key_fn_shares_between_tasks() -> None:
    a = counted(cache_key_fn=lambda ctx, args: "shared-key")
    b = counted(cache_key_fn=lambda ctx, args: "shared-key")
    a(1)
    assert b(1, return_state=True).name == "Cached"


def test_cache_key_fn_error_runs_uncached(run_logs) -> None:
    def broken(ctx, args):
        raise ValueError("boom")

    t = counted(cache_key_fn=broken)
    assert t(1) == 2 and t(1) == 2
    assert t.calls == [1, 1]
    assert "cache_key_fn raised ValueError: boom" in run_logs.text


def test_cache_key_fn_non_string_runs_uncached(run_logs) -> None:
    t = counted(cache_key_fn=lambda ctx, args: 5)
    assert t(1) == 2
    assert "not a string" in run_logs.text


# ---------------------------------------------------------------------- policies
def test_inputs_minus_excludes_an_argument() -> None:
    t = counted(cache_policy=INPUTS - "debug")
    t(1, debug=False)
    assert t(1, debug=True, return_state=True).name == "Cached"
    assert t(2, debug=True, return_state=True).name == "Completed"


def test_policies_compose_and_print() -> None:
    assert repr(INPUTS + TASK_SOURCE) == "INPUTS + TASK_SOURCE"
    assert repr(DEFAULT - "debug") == "INPUTS - 'debug' + TASK_SOURCE"
    assert NONE + INPUTS == INPUTS
    assert (INPUTS - "a" - "b").exclude == ("a", "b")
    with pytest.raises(InvalidOptionError, match="Only INPUTS"):
        TASK_SOURCE - "x"


def test_policy_keys_are_scoped_to_the_task() -> None:
    a = counted(cache_policy=INPUTS)
    b = counted(cache_policy=INPUTS)
    b.task_key = "other.module.double"  # a different task with the same inputs
    a(1)
    assert b(1, return_state=True).name == "Completed"


def test_none_policy_never_caches() -> None:
    t = counted(cache_policy=NONE)
    t(1)
    t(1)
    assert t.calls == [1, 1]


def test_run_id_policy_caches_within_a_flow_run_only() -> None:
    t = counted(cache_policy=INPUTS + RUN_ID)

    @flow
    def f() -> list[str]:
        return [t(1, return_state=True).name, t(1, return_state=True).name]

    assert f() == ["Completed", "Cached"]
    assert f() == ["Completed", "Cached"]


def test_flow_parameters_policy() -> None:
    t = counted(cache_policy=FLOW_PARAMETERS)

    @flow
    def f(day: str) -> str:
        return t(1, return_state=True).name

    assert f("mon") == "Completed"
    assert f("mon") == "Cached"
    assert f("tue") == "Completed"


def test_task_source_policy_changes_with_code() -> None:
    a = task(lambda x: x, name="same", cache_policy=TASK_SOURCE)
    b = task(lambda x: x + 0, name="same", cache_policy=TASK_SOURCE)
    b.task_key = a.task_key
    assert explain_cache_key(a, 1).key != explain_cache_key(b, 1).key


def test_custom_policy() -> None:
    class ByLength(CachePolicy):
        def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs):
            return str(len(str(inputs["x"])))

    t = counted(cache_policy=ByLength())
    t(10)
    assert t(99, return_state=True).name == "Cached"
    assert explain_cache_key(t, 10).parts[-1].source.startswith("ByLength")


def test_cache_policy_and_cache_key_fn_together_is_an_error() -> None:
    with pytest.raises(InvalidOptionError, match="both cache_key_fn and cache_policy"):
        task(lambda: 1, cache_key_fn=task_input_hash, cache_policy=INPUTS)
    with pytest.raises(InvalidOptionError, match="cache_policy must be"):
        task(lambda: 1, cache_policy="inputs")


def test_with_options_swaps_key_fn_for_policy() -> None:
    t = task(lambda: 1, cache_key_fn=task_input_hash)
    swapped = t.with_options(cache_policy=INPUTS)
    assert swapped.cache_key_fn is None and swapped.cache_policy == INPUTS
    back = swapped.with_options(cache_key_fn=task_input_hash)
    assert back.cache_policy is None


# ---------------------------------------------------------------------- hashing
class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Box:
    items: list[int]
    label: str


HASH_SCRIPT = textwrap.dedent("""
    import dataclasses, datetime as dt, enum, uuid, sys
    from pathlib import PurePosixPath
    sys.path.insert(0, {tests!r})
    from test_caching import Box, Color
    from headwater.caching import stable_hash
    print(stable_hash({{"s": {{"a", "b", "c", 1, 2.5}}, "p": PurePosixPath("a/b"),
                       "t": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                       "u": uuid.UUID(int=5), "b": b"xy", "box": Box([1, 2], "l"),
                       "c": Color.RED, "fs": frozenset({{"q", "r"}}), 7: (None, True)}}))
""")


@pytest.mark.slow
def test_hashes_are_stable_across_processes() -> None:
    script = HASH_SCRIPT.format(tests=str(Path(__file__).parent))
    digests = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, timeout=30)
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_hash_distinguishes_types_and_structure() -> None:
    assert stable_hash(1) != stable_hash(True) != stable_hash("1")
    assert stable_hash(("ab", "c")) != stable_hash(("a", "bc"))
    assert stable_hash([1]) != stable_hash((1,))
    assert stable_hash({"a": 1, "b": 2}) == stable_hash({"b": 2, "a": 1})
    assert stable_hash(Box([1], "x")) != stable_hash(Box([2], "x"))


def test_pydantic_models_hash_by_content() -> None:
    import pydantic

    class M(pydantic.BaseModel):
        a: int

    assert stable_hash(M(a=1)) == stable_hash(M(a=1)) != stable_hash(M(a=2))


def test_numpy_arrays_hash_by_content() -> None:
    np = pytest.importorskip("numpy")
    assert stable_hash(np.arange(3)) == stable_hash(np.arange(3)) != stable_hash(np.arange(4))


def test_pandas_frames_hash_by_content() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2]})
    assert stable_hash(frame) == stable_hash(frame.copy())
    assert stable_hash(frame) != stable_hash(pd.DataFrame({"a": [1, 3]}))


def test_register_hasher() -> None:
    from headwater.caching import register_hasher

    class Handle:
        def __init__(self, name: str) -> None:
            self.name = name
            self.lock = threading.Lock()

    register_hasher(Handle, lambda h: h.name)
    assert stable_hash(Handle("a")) == stable_hash(Handle("a")) != stable_hash(Handle("b"))


def test_unhashable_input_runs_uncached_and_names_the_argument(run_logs) -> None:
    t = counted(cache_policy=INPUTS)
    lock = threading.Lock()
    assert t(lock, return_state=True).name == "Completed"
    assert t(lock, return_state=True).name == "Completed"
    assert len(t.calls) == 2
    assert "The input 'x' (a lock) cannot be hashed" in run_logs.text
    assert "not cached" in run_logs.text


def test_unhashable_input_with_task_input_hash(run_logs) -> None:
    t = counted(cache_key_fn=task_input_hash)
    assert t(threading.Lock(), return_state=True).is_completed()
    assert "'x'" in run_logs.text and "not cached" in run_logs.text


def test_futures_and_states_hash_as_their_results() -> None:
    t = counted(cache_policy=INPUTS)
    assert explain_cache_key(t, Completed(data=4)).key == explain_cache_key(t, 4).key

    @task
    def four() -> int:
        return 4

    @flow
    def f() -> tuple[str, str]:
        future = four.submit()
        first = t(future, return_state=True).name
        return first, t(4, return_state=True).name

    assert f() == ("Completed", "Cached")


def test_explain_cache_key_lists_parts() -> None:
    t = counted(cache_key_fn=task_input_hash)
    explanation = explain_cache_key(t, 3, debug=True)
    sources = [(p.source, p.detail) for p in explanation.parts]
    assert sources[0][0] == "task" and ("inputs", "x") in sources
    assert ("inputs", "debug") in sources
    text = str(explanation)
    assert "inputs.x" in text and explanation.key in text
    t(3, debug=True)
    assert t(3, debug=True, return_state=True).state_details.cache_key == explanation.key


def test_explain_cache_key_reports_problems() -> None:
    assert explain_cache_key(counted(), 1).key is None
    explanation = explain_cache_key(counted(cache_policy=INPUTS), threading.Lock())
    assert explanation.key is None and "'x'" in explanation.error


# ---------------------------------------------------------------------- storage-backed
def test_corrupt_payload_is_a_miss_with_a_warning(storage: Path, run_logs) -> None:
    t = counted(cache_key_fn=task_input_hash)
    t(1)
    for path in storage.iterdir():
        if path.is_file():
            path.write_bytes(path.read_bytes()[:-2])
    state = t(1, return_state=True)
    assert state.name == "Completed" and state.result() == 2
    assert "is not usable" in run_logs.text and "checksum" in run_logs.text
    assert t(1, return_state=True).name == "Cached"  # rewritten


def test_missing_payload_is_a_miss_with_a_warning(storage: Path, run_logs) -> None:
    t = counted(cache_key_fn=task_input_hash)
    t(1)
    for path in storage.iterdir():
        if path.is_file():
            path.unlink()
    assert t(1, return_state=True).name == "Completed"
    assert [r for r in run_logs.records if r.levelno == logging.WARNING]


def test_cache_hit_with_record_only(storage: Path) -> None:
    from headwater.results import ResultRecord

    t = counted(cache_key_fn=task_input_hash, cache_result_in_memory=False)
    t(1)
    state = t(1, return_state=True)
    assert state.name == "Cached" and isinstance(state.data, ResultRecord)
    assert state.result() == 2


@pytest.mark.anyio
async def test_async_task_cache_hit(storage: Path) -> None:
    calls = []

    @task(cache_key_fn=task_input_hash)
    async def slow(x: int) -> int:
        calls.append(x)
        return x

    @flow
    async def f() -> list[str]:
        a = await slow(1, return_state=True)
        b = await slow(1, return_state=True)
        return [a.name, b.name]

    assert await f() == ["Completed", "Cached"]


CROSS_PROCESS = textwrap.dedent("""
    import sys, time
    from headwater import flow, task
    from headwater.tasks import task_input_hash

    @task(cache_key_fn=task_input_hash)
    def compute(x: int) -> dict:
        with open(sys.argv[1], "a") as f:
            f.write("call\\n")
        time.sleep(float(sys.argv[2]))
        return {"x": x * 2}

    @flow
    def main() -> tuple:
        state = compute(21, return_state=True)
        return state.name, state.result()

    print(*main())
""")


def _script(tmp_path: Path) -> Path:
    script = tmp_path / "cross.py"
    script.write_text(CROSS_PROCESS)
    return script


@pytest.mark.slow
def test_cache_hit_from_a_second_process(tmp_path: Path) -> None:
    script, calls = _script(tmp_path), tmp_path / "calls.txt"
    outputs = [subprocess.run([sys.executable, str(script), str(calls), "0"],
                              capture_output=True, text=True, timeout=30) for _ in range(2)]
    assert [o.returncode for o in outputs] == [0, 0], outputs[0].stderr
    assert outputs[0].stdout.strip() == "Completed {'x': 42}"
    assert outputs[1].stdout.strip() == "Cached {'x': 42}"
    assert calls.read_text().count("call") == 1


@pytest.mark.slow
def test_racing_processes_compute_once(tmp_path: Path) -> None:
    script, calls = _script(tmp_path), tmp_path / "calls.txt"
    procs = [subprocess.Popen([sys.executable, str(script), str(calls), "0.5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    names = sorted(out.split()[0] for out, _ in outs)
    assert names == ["Cached", "Completed"]
    assert calls.read_text().count("call") == 1


def test_keys_do_not_contain_the_run_id() -> None:
    t = counted(cache_key_fn=task_input_hash)

    @flow
    def f() -> str | None:
        return t(5, return_state=True).state_details.cache_key

    assert f() == f() == explain_cache_key(t, 5).key


def test_inputs_policy_object() -> None:
    assert Inputs(exclude=["b", "a"]) == INPUTS - "a" - "b"
    assert isinstance(uuid.uuid4(), uuid.UUID)
