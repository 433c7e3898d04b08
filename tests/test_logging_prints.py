"""Run loggers, log_prints and disable_run_logger."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from headwater import flow, get_run_logger, task
from headwater.exceptions import MissingContextError
from headwater.logging import disable_run_logger
from headwater.logging.formatters import RunFormatter


def messages(caplog, logger: str | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records if logger is None or r.name == logger]


def test_get_run_logger_outside_runs() -> None:
    with pytest.raises(MissingContextError, match=r"logging\.getLogger"):
        get_run_logger()


def test_task_logger_stamps_run_facts(run_logs) -> None:
    @task
    def t() -> None:
        get_run_logger(extra_field="yes").info("from the task")

    @flow(flow_run_name="the-run")
    def f() -> None:
        t()

    f()
    record = next(r for r in run_logs.records if r.getMessage() == "from the task")
    assert record.name == "headwater.task_runs"
    assert record.task_run_name == "t-0"
    assert record.task_name == "t"
    assert record.flow_run_name == "the-run"
    assert record.extra_field == "yes"


def test_flow_logger(run_logs) -> None:
    @flow(flow_run_name="flow-logs")
    def f() -> None:
        get_run_logger().warning("from the flow")

    f()
    record = next(r for r in run_logs.records if r.getMessage() == "from the flow")
    assert record.name == "headwater.flow_runs"
    assert record.flow_run_name == "flow-logs"
    assert record.levelno == logging.WARNING


def test_flow_begin_and_finish_logged_at_info(run_logs) -> None:
    @flow(flow_run_name="lifecycle")
    def f() -> None:
        pass

    f()
    infos = [r.getMessage() for r in run_logs.records
             if r.name == "headwater.flow_runs" and r.levelno == logging.INFO]
    assert "Beginning flow run 'lifecycle' for flow 'f'" in infos
    assert "Finished in state Completed()" in infos


def test_completed_task_logs_only_at_debug(run_logs) -> None:
    @task
    def t() -> None:
        pass

    @flow
    def f() -> None:
        t()

    f()
    finished = [r for r in run_logs.records
                if r.name == "headwater.task_runs" and "Finished in state" in r.getMessage()]
    assert [r.levelno for r in finished] == [logging.DEBUG]


def test_failed_task_logs_error_with_traceback(run_logs) -> None:
    @task
    def t() -> None:
        raise ValueError("logged failure")

    @flow
    def f() -> None:
        t(return_state=True)

    f(return_state=True)
    errors = [r for r in run_logs.records
              if r.name == "headwater.task_runs" and r.levelno == logging.ERROR]
    assert errors and errors[0].getMessage() == "Encountered exception during execution:"
    assert errors[0].exc_info[0] is ValueError


def test_log_prints_on_task(run_logs, capsys) -> None:
    @task(log_prints=True)
    def t() -> None:
        print("hello", "world")

    @flow
    def f() -> None:
        t()

    f()
    record = next(r for r in run_logs.records if r.getMessage() == "hello world")
    assert record.name == "headwater.task_runs"
    assert record.levelno == logging.INFO
    assert "hello world" not in capsys.readouterr().out


def test_log_prints_inherited_from_flow(run_logs, capsys) -> None:
    @task
    def t() -> None:
        print("from task")

    @task(log_prints=False)
    def quiet() -> None:
        print("not captured")

    @flow(log_prints=True)
    def f() -> None:
        print("from flow")
        t()
        quiet()

    f()
    assert "from task" in messages(run_logs, "headwater.task_runs")
    assert "from flow" in messages(run_logs, "headwater.flow_runs")
    assert "not captured" not in messages(run_logs)
    assert "not captured" in capsys.readouterr().out


def test_prints_not_captured_by_default(run_logs, capsys) -> None:
    @flow
    def f() -> None:
        print("plain print")

    f()
    assert "plain print" not in messages(run_logs)
    assert "plain print" in capsys.readouterr().out


def test_log_prints_from_environment(run_logs, monkeypatch) -> None:
    monkeypatch.setenv("HEADWATER_LOGGING_LOG_PRINTS", "true")

    @flow
    def f() -> None:
        print("env says capture")

    f()
    assert "env says capture" in messages(run_logs)


def test_print_with_file_is_untouched(run_logs, capsys) -> None:
    buffer = io.StringIO()

    @flow(log_prints=True)
    def f() -> None:
        print("to buffer", file=buffer)
        print("to stderr", file=sys.stderr)

    f()
    assert buffer.getvalue() == "to buffer\n"
    assert "to stderr" in capsys.readouterr().err
    assert not {"to buffer", "to stderr"} & set(messages(run_logs))


def test_print_outside_runs_is_untouched(capsys) -> None:
    @flow(log_prints=True)
    def f() -> None:
        pass

    f()  # installs the capture
    print("a", "b", sep="-", end="!\n")
    assert capsys.readouterr().out == "a-b!\n"


def test_disable_run_logger_for_direct_fn_calls(run_logs) -> None:
    @task
    def t(x: int) -> int:
        get_run_logger().info("should be silent")
        return x

    with disable_run_logger():
        assert t.fn(3) == 3
    assert "should be silent" not in messages(run_logs)
    with pytest.raises(MissingContextError):
        t.fn(3)


def test_disable_run_logger_inside_a_run(run_logs) -> None:
    @flow
    def f() -> None:
        with disable_run_logger():
            get_run_logger().error("silenced")
        get_run_logger().info("heard")

    f()
    assert "silenced" not in messages(run_logs)
    assert "heard" in messages(run_logs)


def test_run_formatter_labels_records() -> None:
    formatter = RunFormatter(fmt="%(levelname)-7s | %(run_label)s - %(message)s")
    record = logging.LogRecord("headwater.task_runs", logging.INFO, __file__, 1, "msg",
                               None, None)
    record.task_run_name = "add-3"
    assert formatter.format(record) == "INFO    | Task run 'add-3' - msg"
    flow_record = logging.LogRecord("headwater.flow_runs", logging.INFO, __file__, 1, "m",
                                    None, None)
    flow_record.flow_run_name = "calm-otter"
    assert formatter.format(flow_record) == "INFO    | Flow run 'calm-otter' - m"
    other = logging.LogRecord("x.y", logging.INFO, __file__, 1, "m", None, None)
    assert formatter.format(other) == "INFO    | x.y - m"
