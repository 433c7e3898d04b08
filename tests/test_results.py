"""Result persistence: serializers, storage, records, options, failures, atomic writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import logging
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from headwater import flow, task
from headwater.exceptions import InvalidOptionError, SerializationError
from headwater.results import LocalFileSystem, ResultRecord, get_storage
from headwater.serializers import (
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    get_serializer,
    register_serializer,
)


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "storage"
    monkeypatch.setenv("HEADWATER_LOCAL_STORAGE_PATH", str(path))
    return path


def result_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(path).parts))


# ---------------------------------------------------------------------- serializers
@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_pickle_serializer_handles_lambdas() -> None:
    fn = get_serializer("pickle").loads(get_serializer("pickle").dumps(lambda v: v + 1))
    assert fn(1) == 2


def test_json_serializer_is_pydantic_aware() -> None:
    import pydantic

    class Model(pydantic.BaseModel):
        name: str
        when: dt.datetime

    globals()["Model"] = Model  # importable by its path for loading
    Model.__qualname__ = "Model"
    value = {
        "model": Model(name="a", when=dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone.utc)),
        "point": Point(1, 2), "when": dt.date(2024, 1, 1), "id": uuid.UUID(int=7),
        "path": Path("a/b.txt"), "raw": b"\x00\x01", "tags": {"x"}, "cost": decimal.Decimal("1.5"),
        "delta": dt.timedelta(seconds=90),
    }
    serializer = JSONSerializer()
    assert serializer.loads(serializer.dumps(value)) == value


@pytest.mark.parametrize("name", ["pickle", "json", "compressed/pickle", "compressed/json"])
def test_serializers_by_name_round_trip(name: str) -> None:
    serializer = get_serializer(name)
    assert serializer.type == name
    assert serializer.loads(serializer.dumps({"a": [1, 2.5, "x"]})) == {"a": [1, 2.5, "x"]}


def test_compressed_serializer_compresses() -> None:
    data = "x" * 10_000
    assert len(CompressedSerializer("pickle").dumps(data)) < len(PickleSerializer().dumps(data))


def test_unknown_serializer_name_lists_known_ones() -> None:
    with pytest.raises(InvalidOptionError, match="known names: compressed/json"):
        get_serializer("yaml")


def test_registered_serializer_is_used_by_name(storage: Path) -> None:
    class Upper(Serializer):
        type = "upper"

        def dumps(self, value: object) -> bytes:
            return str(value).upper().encode()

        def loads(self, data: bytes) -> object:
            return data.decode()

    register_serializer("upper", Upper)

    @task(result_serializer="upper", cache_result_in_memory=False)
    def shout() -> str:
        return "hello"

    state = shout(return_state=True)
    assert state.result() == "HELLO"
    assert state.data.serializer == "upper"


def test_bad_serializer_option_is_rejected_at_decoration() -> None:
    with pytest.raises(InvalidOptionError, match="result_serializer"):
        task(lambda: 1, result_serializer=42)


# ---------------------------------------------------------------------- persisting
def test_persist_result_writes_to_local_storage_path(storage: Path) -> None:
    @task(persist_result=True)
    def add(x: int, y: int) -> int:
        return x + y

    state = add(1, 2, return_state=True)
    assert state.result() == 3 and state.data == 3
    assert len(result_files(storage)) == 1


def test_local_storage_defaults_to_home_storage(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEADWATER_LOCAL_STORAGE_PATH", raising=False)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))

    @task(persist_result=True)
    def one() -> int:
        return 1

    assert one() == 1
    assert len(result_files(tmp_path / "home" / "storage")) == 1


def test_cache_result_in_memory_false_keeps_only_the_record(storage: Path) -> None:
    @task(cache_result_in_memory=False)
    def make() -> dict[str, int]:
        return {"a": 1}

    @flow
    def f() -> tuple[object, object, object]:
        future = make.submit()
        future.wait()
        return future.state.data, future.result(), make(return_state=True).result()

    record, from_future, from_state = f()
    assert isinstance(record, ResultRecord)
    assert from_future == from_state == {"a": 1}
    meta = record.metadata()
    assert set(meta) == {"storage", "storage_key", "serializer", "expiration", "checksum",
                         "cache_key"}
    assert meta["serializer"] == "pickle" and meta["checksum"].startswith("sha256:")
    assert ResultRecord.from_metadata(meta).load() == {"a": 1}


@pytest.mark.anyio
async def test_result_async_loads_a_record(storage: Path) -> None:
    @task(cache_result_in_memory=False)
    async def make() -> int:
        return 5

    state = await make(return_state=True)
    assert isinstance(state.data, ResultRecord)
    assert await state.result_async() == 5


def test_result_storage_key_template(storage: Path) -> None:
    @task(result_storage_key="greetings/{parameters[name]}-{task_run.task_name}.pkl")
    def greet(name: str) -> str:
        return f"hi {name}"

    @flow
    def f() -> str:
        return greet("ada")

    assert f() == "hi ada"
    assert (storage / "greetings" / "ada-greet.pkl").is_file()


def test_bad_storage_key_template_fails_the_run(storage: Path) -> None:
    @task(result_storage_key="{parameters[nope]}")
    def one() -> int:
        return 1

    state = one(return_state=True)
    assert state.is_failed()
    assert "result_storage_key" in state.message and "nope" in state.message


def test_result_storage_as_path_and_instance(tmp_path: Path) -> None:
    @task(result_storage=str(tmp_path / "a"))
    def one() -> int:
        return 1

    @task(result_storage=LocalFileSystem(tmp_path / "b"), result_serializer="json")
    def two() -> int:
        return 2

    assert one() == 1 and two() == 2
    assert len(result_files(tmp_path / "a")) == 1
    (stored,) = result_files(tmp_path / "b")
    assert stored.read_bytes().endswith(b"\n2")


def test_fsspec_memory_storage() -> None:
    pytest.importorskip("fsspec")

    @task(result_storage="memory://headwater-test", cache_result_in_memory=False)
    def one() -> list[int]:
        return [1]

    state = one(return_state=True)
    assert state.data.storage.url == "memory://headwater-test"
    assert state.result() == [1]
    assert get_storage("memory://headwater-test").exists(state.data.storage_key)


def test_persist_by_default_setting(storage: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @task
    def plain() -> int:
        return 1

    @task(persist_result=False)
    def opted_out() -> int:
        return 2

    @flow
    def f() -> None:
        plain()
        opted_out()

    f()
    assert result_files(storage) == []
    monkeypatch.setenv("HEADWATER_RESULTS_PERSIST_BY_DEFAULT", "true")
    f()
    assert len(result_files(storage)) == 1


def test_tasks_inherit_flow_result_options(tmp_path: Path) -> None:
    @task
    def plain() -> dict[str, int]:
        return {"a": 1}

    @flow(persist_result=True, result_storage=str(tmp_path / "flow"), result_serializer="json")
    def f() -> None:
        plain()

    f()
    (stored,) = result_files(tmp_path / "flow")
    assert b'"serializer":"json"' in stored.read_bytes()


def test_persistence_options_do_not_warn() -> None:
    # pytest turns warnings into errors: decorating must be silent now.
    task(lambda: 1, persist_result=True, result_storage="/tmp/x", result_serializer="json",
         result_storage_key="k")
    flow(lambda: 1, persist_result=True, result_serializer="json")


def test_persist_false_with_no_memory_cache_is_rejected() -> None:
    with pytest.raises(InvalidOptionError, match="kept nowhere"):
        task(lambda: 1, persist_result=False, cache_result_in_memory=False)


# ---------------------------------------------------------------------- failures
def test_unpicklable_result_fails_that_task_only(storage: Path, run_logs) -> None:
    @task(persist_result=True)
    def make_lock() -> object:
        return threading.Lock()

    @task
    def fine() -> int:
        return 1

    @flow
    def f() -> tuple[object, int]:
        bad = make_lock(return_state=True)
        return bad, fine()

    bad, good = f()
    assert bad.is_failed() and good == 1
    message = bad.message
    assert "'make_lock'" in message and "lock" in message
    assert "persist_result=False" in message and "result_serializer" in message
    with pytest.raises(SerializationError):
        bad.result()
    assert result_files(storage) == []


def test_unserializable_json_result_names_the_type(storage: Path) -> None:
    class Thing:
        pass

    @task(result_serializer="json")
    def make() -> object:
        return Thing()

    state = make(return_state=True)
    assert state.is_failed()
    assert "Thing" in state.message and "'json'" in state.message


def test_simulated_crash_mid_write_leaves_no_result(
        storage: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from headwater._private.results import storage as storage_module

    def half_then_crash(file, data: bytes) -> None:
        file.write(data[: len(data) // 2])
        raise OSError("disk vanished")

    calls = []

    @task(persist_result=True, result_storage_key="fixed.pkl")
    def one() -> int:
        calls.append(1)
        return 1

    monkeypatch.setattr(storage_module, "_write_all", half_then_crash)
    state = one(return_state=True)
    assert state.is_failed() and "disk vanished" in state.message
    assert list(storage.rglob("*.tmp")) == [] and not (storage / "fixed.pkl").exists()
    monkeypatch.undo()


def test_process_killed_mid_write_never_leaves_a_valid_result(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, datetime
        from headwater import task
        from headwater.tasks import task_input_hash
        from headwater._private.results import storage

        def crash(file, data):
            file.write(data[: len(data) // 2])
            file.flush()
            os._exit(3)

        if sys.argv[1] == "crash":
            storage._write_all = crash

        @task(cache_key_fn=task_input_hash, result_storage={str(tmp_path / "s")!r})
        def compute(x):
            print("computed")
            return x * 2

        print(compute(21, return_state=True).name)
    """))
    crashed = subprocess.run([sys.executable, str(script), "crash"], capture_output=True,
                             text=True, timeout=30)
    assert crashed.returncode == 3
    rerun = subprocess.run([sys.executable, str(script), "ok"], capture_output=True,
                           text=True, timeout=30)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.split() == ["computed", "Completed"]


def test_damaged_record_raises_on_load(storage: Path) -> None:
    @task(cache_result_in_memory=False)
    def one() -> int:
        return 1

    record = one(return_state=True).data
    path = storage / record.storage_key
    path.write_bytes(path.read_bytes()[:-1] + b"X")
    with pytest.raises(SerializationError, match="checksum"):
        record.load()
    path.unlink()
    from headwater.exceptions import MissingResult

    with pytest.raises(MissingResult, match="missing"):
        record.load()


def test_storage_key_cannot_escape_the_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="outside"):
        LocalFileSystem(tmp_path).write("../evil", b"x")


def test_warning_level_logs_are_not_python_warnings(storage: Path, run_logs) -> None:
    @task(persist_result=True)
    def one() -> int:
        return 1

    one()
    assert not [r for r in run_logs.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("module_name", ["headwater.results", "headwater.serializers",
                                         "headwater.cache_policies", "headwater.caching",
                                         "headwater.filesystems"])
def test_new_public_modules_export_what_they_list(module_name: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_import_headwater_loads_no_heavy_libraries() -> None:
    code = ("import sys, headwater; heavy = {'cloudpickle', 'fsspec', 'pydantic', "
            "'headwater._private.results.serializers'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)
    assert out.stdout.strip() == "[]", out.stderr
