"""The API log handler: every record inside a run shipped, in order, with its run ids."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import flow, get_run_logger, task
from headwater._private.logging_config import setup_logging
from headwater._private.run_logging import ensure_logging_configured
from headwater.exceptions import MissingContextError
from headwater.logging.handlers import (
    APILogHandler,
    InMemoryLogSink,
    LogRecordDict,
    LogSink,
    flush_logs,
    set_default_log_sink,
)
from headwater.settings import Settings
from headwater.task_runners import ThreadPoolTaskRunner


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryLogSink]:
    """Headwater's logging applied with the console quiet, shipping to an in-memory sink."""
    ensure_logging_configured()
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    memory = InMemoryLogSink()
    previous = set_default_log_sink(memory)
    setup_logging(force=True)
    try:
        yield memory
    finally:
        flush_logs()
        set_default_log_sink(previous)
        setup_logging(Settings(home=tmp_path / "none"), force=True)


@pytest.fixture
def direct() -> Iterator[tuple[logging.Logger, InMemoryLogSink, APILogHandler]]:
    """A private logger with its own API handler."""
    memory = InMemoryLogSink()
    handler = APILogHandler(sink=memory, batch_size=10_000, batch_interval=0.05,
                            max_log_size=1_000, when_missing_flow="ignore", enabled=True)
    logger = logging.getLogger("test.api.direct")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, memory, handler
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_sinks_follow_the_protocol() -> None:
    assert isinstance(InMemoryLogSink(), LogSink)


def test_flow_records_carry_run_ids(sink: InMemoryLogSink) -> None:
    @task
    def child() -> None:
        get_run_logger().warning("from the task")

    @flow(log_prints=True)
    def parent() -> None:
        get_run_logger().info("from the flow")
        print("printed")
        child()

    parent()
    flush_logs()
    by_message = {r["message"]: r for r in sink.records}
    flow_record, task_record = by_message["from the flow"], by_message["from the task"]
    assert flow_record["name"] == "headwater.flow_runs" and flow_record["level"] == 20
    assert flow_record["task_run_id"] is None and flow_record["flow_run_id"]
    assert task_record["flow_run_id"] == flow_record["flow_run_id"]
    assert task_record["task_run_id"] and task_record["level"] == 30
    assert by_message["printed"]["flow_run_id"] == flow_record["flow_run_id"]
    assert task_record["timestamp"].endswith("+00:00")
    assert any(m.startswith("Finished in state") for m in by_message)


def test_subflows_and_async_tasks_carry_their_own_ids(sink: InMemoryLogSink) -> None:
    @task
    async def atask(n: int) -> None:
        await asyncio.sleep(0)
        logging.getLogger("headwater.task_runs").info("async %d", n)

    @flow
    def sub() -> None:
        get_run_logger().info("in sub")

    @flow
    async def main() -> None:
        get_run_logger().info("in main")
        await asyncio.gather(atask(1), atask(2))
        sub()

    asyncio.run(main())
    flush_logs()
    records = {r["message"]: r for r in sink.records}
    assert records["in sub"]["flow_run_id"] != records["in main"]["flow_run_id"]
    ids = {records["async 1"]["task_run_id"], records["async 2"]["task_run_id"]}
    assert len(ids) == 2 and None not in ids
    assert records["async 1"]["flow_run_id"] == records["in main"]["flow_run_id"]


def test_records_are_shipped_before_the_flow_returns(sink: InMemoryLogSink) -> None:
    @flow
    def quick() -> None:
        get_run_logger().info("must be there")

    quick()
    assert "must be there" in sink.messages()


def test_records_still_ship_after_a_dict_config_closed_the_handlers(
        sink: InMemoryLogSink) -> None:
    """A user's (or uvicorn's) dictConfig closes every handler, detaching only its own loggers'."""
    import logging.config

    @flow
    def talk(word: str) -> None:
        get_run_logger().info("said %s", word)

    talk("before")
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False,
                               "loggers": {"some.library": {"level": "INFO"}}})
    talk("after")
    assert [m for m in sink.messages() if m.startswith("said")] == ["said before", "said after"]


@pytest.mark.slow
def test_100k_records_from_8_threads_all_shipped_in_order(
        sink: InMemoryLogSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_TO_API_BATCH_SIZE", "65536")
    monkeypatch.setenv("HEADWATER_LOGGING_TO_API_BATCH_INTERVAL", "0.01")
    setup_logging()
    per_task = 12_500

    @task
    def chatty(worker: int) -> None:
        logger = get_run_logger()
        for i in range(per_task):
            logger.info("%d %d", worker, i)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
    def many() -> None:
        chatty.map(range(8)).wait()

    many()
    assert flush_logs(timeout=30)
    by_run: dict[str | None, list[int]] = defaultdict(list)
    for record in sink.records:
        if record["name"] == "headwater.task_runs":
            by_run[record["task_run_id"]].append(int(record["message"].split()[1]))
    assert len(by_run) == 8
    for numbers in by_run.values():
        assert numbers == list(range(per_task))
    assert sink.batches > 8  # shipped in several batches, by size


def test_plain_threads_inside_a_task_keep_the_ids(sink: InMemoryLogSink) -> None:
    import contextvars

    @task
    def spawner() -> None:
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(
            lambda: get_run_logger().info("from a thread"),))
        thread.start()
        thread.join()

    @flow
    def spawn() -> None:
        spawner()

    spawn()
    flush_logs()
    record = next(r for r in sink.records if r["message"] == "from a thread")
    assert record["task_run_id"] and record["flow_run_id"]


def test_long_messages_are_truncated_with_a_marker(
        direct: tuple[logging.Logger, InMemoryLogSink, APILogHandler]) -> None:
    logger, memory, _ = direct
    logger.info("x" * 5_000, extra={"flow_run_id": "f"})
    logger.info("é" * 5_000, extra={"flow_run_id": "f"})
    logger.info("short", extra={"flow_run_id": "f"})
    flush_logs()
    long, accented, short = memory.messages()
    assert len(long.encode()) <= 1_000 and long.endswith("bytes]")
    assert long.startswith("xxx") and "[truncated" in long
    assert len(accented.encode()) <= 1_000 and accented.startswith("éé")
    assert short == "short"


def test_missing_flow_warn(direct: tuple[logging.Logger, InMemoryLogSink, APILogHandler]) -> None:
    logger, memory, handler = direct
    handler.when_missing_flow = "warn"
    with pytest.warns(RuntimeWarning, match="without a flow or task run"):
        logger.info("nowhere")
    flush_logs()
    assert memory.records == []


def test_missing_flow_error(
        direct: tuple[logging.Logger, InMemoryLogSink, APILogHandler]) -> None:
    logger, _, handler = direct
    handler.when_missing_flow = "error"
    with pytest.raises(MissingContextError, match=r"test\.api\.direct"):
        logger.info("nowhere")


def test_missing_flow_ignore(
        direct: tuple[logging.Logger, InMemoryLogSink, APILogHandler]) -> None:
    logger, memory, _ = direct
    logger.info("nowhere")
    logger.info("somewhere", extra={"task_run_id": "t"})
    flush_logs()
    assert memory.messages() == ["somewhere"]


def test_send_to_api_false_and_disabled(
        direct: tuple[logging.Logger, InMemoryLogSink, APILogHandler]) -> None:
    logger, memory, handler = direct
    logger.info("skip", extra={"flow_run_id": "f", "send_to_api": False})
    handler.enabled = False
    logger.info("off", extra={"flow_run_id": "f"})
    flush_logs()
    assert memory.records == []


def test_a_broken_sink_never_raises_into_user_code(
        capfd: pytest.CaptureFixture[str]) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.good: list[LogRecordDict] = []
            self.fail = True

        def send(self, batch: list[LogRecordDict]) -> None:
            if self.fail:
                self.fail = False
                raise ConnectionError("down")
            self.good.extend(batch)

    flaky = Flaky()
    handler = APILogHandler(sink=flaky, batch_size=10_000, batch_interval=0.05,
                            max_log_size=1_000, when_missing_flow="ignore", enabled=True)
    record = logging.LogRecord("x", logging.INFO, "f.py", 1, "lost", None, None)
    record.flow_run_id = "f"
    handler.handle(record)
    assert handler.flush_records(5)
    record.msg = "kept"
    handler.handle(record)
    handler.close()
    assert [r["message"] for r in flaky.good] == ["kept"]
    assert "ConnectionError('down')" in capfd.readouterr().err


@pytest.mark.slow
def test_queue_is_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    out = tmp_path / "shipped.txt"
    script = f"""
import logging
from headwater import flow, get_run_logger
from headwater._private.logging_config import setup_logging
from headwater.logging.handlers import set_default_log_sink

class FileSink:
    def send(self, batch):
        with open({str(out)!r}, "a") as f:
            f.writelines(r["message"] + "\\n" for r in batch)

set_default_log_sink(FileSink())
setup_logging()

@flow
def f():
    for i in range(1000):
        get_run_logger().info("line %d", i)

f()
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_HOME=str(tmp_path / "home"),
               HEADWATER_LOGGING_TO_API_BATCH_INTERVAL="60",
               HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL="ERROR")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)
    lines = out.read_text().splitlines()
    assert [line for line in lines if line.startswith("line")] == [
        f"line {i}" for i in range(1000)]
