"""Logging configuration: load order, env overrides, and never taking over the program's logging."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import flow, get_run_logger, task
from headwater._private.logging_config import build_logging_config, setup_logging
from headwater._private.run_logging import ensure_logging_configured
from headwater.logging.formatters import JsonFormatter, RunFormatter
from headwater.logging.handlers import (
    ConsoleHandler,
    InMemoryLogSink,
    flush_logs,
    set_default_log_sink,
)
from headwater.settings import Settings, SettingsError


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryLogSink]:
    ensure_logging_configured()  # the engine's own first-run setup, done before ours
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    root_level = root.level
    sink = InMemoryLogSink()
    previous = set_default_log_sink(sink)
    try:
        yield sink
    finally:
        flush_logs()
        set_default_log_sink(previous)
        root.setLevel(root_level)
        setup_logging(Settings(home=tmp_path / "none"), force=True)


def config_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return build_logging_config()


def test_packaged_default_shape() -> None:
    config = build_logging_config()
    assert set(config["formatters"]) >= {"standard", "json"}
    assert set(config["handlers"]) >= {"console", "api"}
    loggers = config["loggers"]
    for name in ("headwater", "headwater.flow_runs", "headwater.task_runs", "headwater.extra",
                 "headwater.server", "uvicorn"):
        assert name in loggers
    assert loggers["headwater"]["propagate"] is True  # run logs reach root handlers
    assert not config.get("root")  # the root logger is left to the program


def test_env_overrides_match_dotted_logger_names(monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_with(monkeypatch,
                         HEADWATER_LOGGING_LOGGERS_HEADWATER_FLOW_RUNS_LEVEL="debug",
                         HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING",
                         HEADWATER_LOGGING_LOGGERS_HTTPX_LEVEL="INFO",
                         HEADWATER_LOGGING_ROOT_LEVEL="INFO",
                         HEADWATER_LOGGING_LOGGERS_HEADWATER_EXTRA_PROPAGATE="true")
    assert config["loggers"]["headwater.flow_runs"]["level"] == "DEBUG"  # type: ignore[index]
    assert config["handlers"]["console"]["level"] == "WARNING"  # type: ignore[index]
    assert config["loggers"]["httpx"] == {"level": "INFO"}  # type: ignore[index]
    assert config["root"] == {"level": "INFO"}
    assert config["loggers"]["headwater.extra"]["propagate"] is True  # type: ignore[index]


def test_new_logger_prefers_an_existing_name(monkeypatch: pytest.MonkeyPatch) -> None:
    logging.getLogger("my_app.db")
    config = config_with(monkeypatch, HEADWATER_LOGGING_LOGGERS_MY_APP_DB_LEVEL="ERROR")
    assert config["loggers"]["my_app.db"] == {"level": "ERROR"}  # type: ignore[index]


def test_unknown_key_names_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_HANDLERS_CONSOL_LEVEL", "INFO")
    with pytest.raises(SettingsError, match="Closest: HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL"):
        build_logging_config()


def test_misspelt_logging_setting_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_LEVL", "INFO")
    with pytest.raises(SettingsError, match="HEADWATER_LOGGING_LEVEL"):
        build_logging_config()


def test_bad_override_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_ROOT_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match=r"ROOT_LEVEL='LOUD'.*DEBUG, INFO"):
        build_logging_config()


def test_logging_level_setting_sets_headwater_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_with(monkeypatch, HEADWATER_LOGGING_LEVEL="DEBUG")
    assert config["loggers"]["headwater"]["level"] == "DEBUG"  # type: ignore[index]


def test_user_file_merges_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mine.yml"
    user.write_text(textwrap.dedent("""
        handlers:
          console: {formatter: json}
          file: {class: logging.FileHandler, filename: out.log}
        loggers:
          headwater: {handlers: [console, file]}
    """))
    config = config_with(monkeypatch, HEADWATER_LOGGING_SETTINGS_PATH=str(user),
                         HEADWATER_LOGGING_HANDLERS_CONSOLE_LEVEL="ERROR")
    console = config["handlers"]["console"]  # type: ignore[index]
    assert console["formatter"] == "json" and console["level"] == "ERROR"
    assert console["class"] == "headwater.logging.handlers.ConsoleHandler"
    assert config["loggers"]["headwater"] == {  # type: ignore[index]
        "level": "INFO", "handlers": ["console", "file"], "propagate": True}


def test_home_logging_yml_is_picked_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "logging.yml").write_text("loggers: {headwater: {level: WARNING}}\n")
    assert build_logging_config()["loggers"]["headwater"]["level"] == "WARNING"


def test_setup_logging_is_idempotent() -> None:
    setup_logging(force=True)
    before = list(logging.getLogger("headwater").handlers)
    setup_logging()
    setup_logging()
    assert logging.getLogger("headwater").handlers == before
    assert len(before) == 1


def test_root_level_override_keeps_root_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    mine = ListHandler()
    root.addHandler(mine)
    try:
        monkeypatch.setenv("HEADWATER_LOGGING_ROOT_LEVEL", "INFO")
        setup_logging(force=True)
        assert root.level == logging.INFO
        assert mine in root.handlers
        logging.getLogger("user.module").info("visible")
        assert [r.getMessage() for r in mine.records] == ["visible"]
    finally:
        root.removeHandler(mine)


def test_other_handlers_are_not_closed(tmp_path: Path) -> None:
    path = tmp_path / "user.log"
    handler = logging.FileHandler(path, mode="w")
    logger = logging.getLogger("user.file")
    logger.addHandler(handler)
    try:
        setup_logging(force=True)
        setup_logging(force=True)
        logger.warning("still written")
        handler.flush()
        assert "still written" in path.read_text()
    finally:
        logger.removeHandler(handler)
        handler.close()


@task
def noisy_task(n: int) -> int:
    get_run_logger().info("task log %d", n)
    logging.getLogger("myapp.db").warning("extra log %d", n)
    return n


@flow
def noisy_flow() -> int:
    logging.getLogger("myapp.db").warning("from the flow")
    return noisy_task(1) + noisy_task.submit(2).result()


def _extra_logger_setup() -> tuple[logging.Logger, ListHandler]:
    logger = logging.getLogger("myapp.db")
    mine = ListHandler()
    logger.addHandler(mine)
    logger.setLevel(logging.INFO)
    logger.propagate = True
    return logger, mine


@pytest.mark.parametrize("where", ["env", "profile", "dotenv"])
def test_extra_loggers_are_shipped_and_still_printed(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        isolated: InMemoryLogSink) -> None:
    if where == "env":
        monkeypatch.setenv("HEADWATER_LOGGING_EXTRA_LOGGERS", "myapp.db,other")
    elif where == "dotenv":
        (tmp_path / ".env").write_text("HEADWATER_LOGGING_EXTRA_LOGGERS=myapp.db\n")
    else:
        from headwater.settings import Profile, ProfilesCollection, save_profiles

        save_profiles(ProfilesCollection("default", {"default": Profile(
            "default", {"HEADWATER_LOGGING_EXTRA_LOGGERS": '["myapp.db"]'})}),
            tmp_path / "home" / "profiles.toml")
    logger, mine = _extra_logger_setup()
    try:
        setup_logging(force=True)
        logger.warning("outside any run")  # not shipped, no warning
        assert noisy_flow() == 3
        flush_logs()
        assert logger.level == logging.INFO and logger.propagate is True
        printed = [r.getMessage() for r in mine.records]
        assert printed == ["outside any run", "from the flow", "extra log 1", "extra log 2"]
        shipped = [r for r in isolated.records if r["name"] == "myapp.db"]
        assert [r["message"] for r in shipped] == printed[1:]
        assert shipped[0]["task_run_id"] is None and shipped[0]["flow_run_id"] is not None
        assert all(r["task_run_id"] for r in shipped[1:])
        task_logs = [r for r in isolated.records if r["message"].startswith("task log")]
        assert [r["task_run_id"] for r in task_logs] == [r["task_run_id"] for r in shipped[1:]]
    finally:
        logger.removeHandler(mine)


def test_extra_propagate_echoes_through_headwater_console(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_EXTRA_LOGGERS", "myapp.db")
    monkeypatch.setenv("HEADWATER_LOGGING_LOGGERS_HEADWATER_EXTRA_PROPAGATE", "true")
    logger, mine = _extra_logger_setup()
    echo = ListHandler()
    try:
        setup_logging(force=True)
        logging.getLogger("headwater").addHandler(echo)
        noisy_flow()
        echoed = [r for r in echo.records if r.name == "myapp.db"]
        assert len(echoed) == 3
        assert RunFormatter("%(run_label)s - %(message)s").format(echoed[1]).startswith(
            "Task run 'noisy_task-0' - extra log 1")
    finally:
        logging.getLogger("headwater").removeHandler(echo)
        logger.removeHandler(mine)


def test_json_formatter() -> None:
    record = logging.LogRecord("x", logging.INFO, "f.py", 1, "hello %s", ("you",), None)
    record.task_run_id = "abc"
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "hello you" and data["level"] == "INFO"
    assert data["logger"] == "x" and data["task_run_id"] == "abc"
    assert data["timestamp"].endswith("+00:00")


def test_console_handler_plain_without_terminal_coloured_with_one() -> None:
    record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "boom", None, None)
    plain = io.StringIO()
    ConsoleHandler(plain, colors=True).emit(record)
    assert plain.getvalue() == "boom\n"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    ConsoleHandler(tty, colors=True).emit(record)
    assert "\x1b[" in tty.getvalue() and "boom" in tty.getvalue()
    quiet = Terminal()
    ConsoleHandler(quiet, colors=False).emit(record)
    assert quiet.getvalue() == "boom\n"


BASIC_CONFIG_SCRIPT = """
import logging, sys
{before}
from headwater import flow, get_run_logger
from headwater._private.logging_config import setup_logging
{after}
setup_logging()

@flow(name="demo")
def demo():
    get_run_logger().info("run log")
    logging.getLogger("user").info("user info")
    logging.getLogger("user").warning("user warning")

demo()
logging.getLogger("user").warning("after the flow")
"""
BASIC = 'logging.basicConfig(format="USER|%(levelname)s|%(message)s", level=logging.WARNING)'


def _run_script(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(tmp_path / "home")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=30, check=True)


@pytest.mark.parametrize("when", ["before", "after"])
def test_basic_config_is_preserved(when: str, tmp_path: Path) -> None:
    script = BASIC_CONFIG_SCRIPT.format(before=BASIC if when == "before" else "",
                                        after=BASIC if when == "after" else "")
    lines = _run_script(script, tmp_path).stderr.splitlines()
    assert "USER|WARNING|user warning" in lines
    assert "USER|WARNING|after the flow" in lines
    assert not any("user info" in line for line in lines)  # the user's level still rules
    # The run log propagates to the root logger, whose handler prints it to
    # stderr in the user's format; headwater's console handler steps aside.
    run_lines = [line for line in lines if "run log" in line]
    assert run_lines == ["USER|INFO|run log"]


# The no-double-print rule: each case prints the run log exactly once, on the
# stream and in the format given.
@pytest.mark.parametrize(("setup", "stream", "expected"), [
    # No root handler: headwater's console handler prints it.
    ("", "stderr", "| INFO    | Flow run '"),
    # basicConfig to stderr or stdout: the root handler prints it, headwater does not.
    ('logging.basicConfig(format="USER|%(message)s")', "stderr", "USER|run log"),
    ('logging.basicConfig(format="USER|%(message)s", stream=sys.stdout)', "stdout",
     "USER|run log"),
    # A root stream handler above INFO does not print it: headwater does.
    ('logging.basicConfig(format="USER|%(message)s"); '
     'logging.getLogger().handlers[0].setLevel(logging.WARNING)', "stderr",
     "| INFO    | Flow run '"),
    # A root handler to a file is not the terminal: headwater prints it too.
    ('logging.basicConfig(filename="out.log", format="FILE|%(message)s")', "stderr",
     "| INFO    | Flow run '"),
    # headwater's own console handler on the root logger as well: printed once.
    ('import os; os.environ["HEADWATER_LOGGING_ROOT_HANDLERS"] = "console"', "stderr",
     "| INFO    | Flow run '"),
])
def test_run_log_printed_once(setup: str, stream: str, expected: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run_script(BASIC_CONFIG_SCRIPT.format(before=setup, after=""), tmp_path)
    out = {"stdout": result.stdout, "stderr": result.stderr}
    printed = [line for name in out for line in out[name].splitlines() if "run log" in line]
    assert len(printed) == 1, out
    assert expected in printed[0] and "run log" in out[stream]
    if "filename" in setup:
        assert "FILE|run log" in (tmp_path / "out.log").read_text()


def test_root_handlers_receive_run_logs_and_prints(caplog: pytest.LogCaptureFixture) -> None:
    """pytest's caplog (a handler on the root logger) sees run logs, prints and engine lines."""

    @task(log_prints=True)
    def shout() -> None:
        print("printed in the task")

    @flow(name="caplog-demo")
    def demo() -> None:
        get_run_logger().warning("from the flow")
        shout()

    with caplog.at_level(logging.INFO):
        demo()
    seen = {(r.name, r.levelname, r.getMessage()) for r in caplog.records}
    assert ("headwater.flow_runs", "WARNING", "from the flow") in seen
    assert ("headwater.task_runs", "INFO", "printed in the task") in seen
    assert ("headwater.flow_runs", "INFO", "Finished in state Completed('All states completed.')"
            ) in seen


def test_failed_task_run_finishes_at_error(caplog: pytest.LogCaptureFixture) -> None:
    @task
    def bad() -> None:
        raise ValueError("boom")

    @flow
    def demo() -> int:
        bad(return_state=True)
        return 0  # the flow completes; a None return would fail with its task

    with caplog.at_level(logging.DEBUG):
        demo()
    finished = [r for r in caplog.records if r.name == "headwater.task_runs"
                and r.getMessage().startswith("Finished in state")]
    assert [r.levelname for r in finished] == ["ERROR"]


def test_extra_logger_with_unset_level_gets_headwaters(
        monkeypatch: pytest.MonkeyPatch, isolated: InMemoryLogSink) -> None:
    """As in Prefect 2: an extra logger whose level is unset ships its INFO records."""
    monkeypatch.setenv("HEADWATER_LOGGING_EXTRA_LOGGERS", "myapp.unset,myapp.set")
    unset, kept = logging.getLogger("myapp.unset"), logging.getLogger("myapp.set")
    kept.setLevel(logging.ERROR)

    @flow
    def demo() -> None:
        unset.info("unset info")
        kept.warning("kept warning")

    try:
        setup_logging(force=True)
        assert unset.level == logging.INFO and kept.level == logging.ERROR
        demo()
        flush_logs()
        shipped = [r["message"] for r in isolated.records if r["name"].startswith("myapp.")]
        assert shipped == ["unset info"]
    finally:
        kept.setLevel(logging.NOTSET)
        monkeypatch.delenv("HEADWATER_LOGGING_EXTRA_LOGGERS")
        setup_logging(force=True)
    assert unset.level == logging.NOTSET  # given back when headwater lets go of it
