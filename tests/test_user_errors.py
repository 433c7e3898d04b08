"""A user's mistake is said once, with the fix: parameters, results, options, settings, logging."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from headwater import flow, task
from headwater.exceptions import ParameterTypeError, SerializationError, SettingsError
from headwater.settings import temporary_settings
from headwater.tasks import task_input_hash


def _mentions(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


def test_a_wrong_parameter_type_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    @flow
    def typed(x: int) -> int:
        return x

    with caplog.at_level(logging.INFO), pytest.raises(ParameterTypeError) as raised:
        typed("abc")  # type: ignore[arg-type]
    assert "parameter 'x'" in str(raised.value)
    assert _mentions(caplog, "parameter 'x'") == 1
    assert _mentions(caplog, "Finished in state Failed: ParameterTypeError") == 1


def test_a_subflow_with_a_wrong_parameter_is_logged_once(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    @flow
    def child(x: int) -> int:
        return x

    @flow
    def parent() -> int:
        return child("abc")  # type: ignore[arg-type]

    with caplog.at_level(logging.INFO), pytest.raises(ParameterTypeError):
        parent()
    assert _mentions(caplog, "parameter 'x'") == 1
    assert _mentions(caplog, "Encountered exception during execution: ParameterTypeError") == 1


def test_an_unserializable_cached_result_is_logged_once(
        caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    @task(cache_key_fn=task_input_hash, persist_result=True)
    def locked() -> threading.Lock:
        return threading.Lock()

    @flow
    def uses() -> threading.Lock:
        return locked()

    with temporary_settings(HEADWATER_LOCAL_STORAGE_PATH=str(tmp_path)), \
            caplog.at_level(logging.INFO), pytest.raises(SerializationError) as raised:
        uses()
    assert "persist_result=False" in str(raised.value)
    assert _mentions(caplog, "result serializer cannot serialize") == 1
    assert not any(record.exc_info for record in caplog.records)  # no traceback in the logs


def test_a_failing_task_keeps_prefects_lines(caplog: pytest.LogCaptureFixture) -> None:
    @task
    def broken() -> None:
        raise ValueError("MARK")

    @flow
    def runs() -> None:
        broken()

    with caplog.at_level(logging.INFO), pytest.raises(ValueError):
        runs()
    assert _mentions(caplog, "Finished in state Failed('Task run encountered an exception "
                             "ValueError: MARK')") == 1
    assert sum(bool(record.exc_info) for record in caplog.records) == 2  # task and flow


@pytest.mark.parametrize(("decorator", "wrong", "meant"), [
    (task, "retires", "retries"), (flow, "log_print", "log_prints"),
    (task, "cache_key_function", "cache_key_fn"), (flow, "timeout", "timeout_seconds")])
def test_a_misspelled_option_names_the_option_meant(decorator: object, wrong: str,
                                                    meant: str) -> None:
    name = getattr(decorator, "__name__", "")
    with pytest.raises(TypeError, match=rf"^{name}\(\) got an unexpected keyword argument "
                                        rf"'{wrong}'; did you mean '{meant}'\?$"):
        decorator(**{wrong: 3})  # type: ignore[operator]


@pytest.mark.parametrize(("kind", "wrong", "meant"), [
    ("Flow", "retires", "retries"), ("Task", "retires", "retries"),
    ("Flow", "retry_delay_second", "retry_delay_seconds"), ("Task", "timeout", "timeout_seconds")])
def test_a_misspelled_with_options_option_names_the_option_meant(kind: str, wrong: str,
                                                                 meant: str) -> None:
    def fn() -> None:
        pass

    original = flow(fn) if kind == "Flow" else task(fn)
    with pytest.raises(TypeError, match=rf"^{kind}\.with_options\(\) got an unexpected keyword "
                                        rf"argument '{wrong}'; did you mean '{meant}'\?$"):
        original.with_options(**{wrong: 3})
    assert getattr(original.with_options(**{meant: 3}), meant) == 3  # the right name still works


def test_with_options_with_nothing_close_keeps_pythons_message() -> None:
    @task
    def fn() -> None:
        pass

    with pytest.raises(TypeError, match=r"^Task\.with_options\(\) got an unexpected keyword "
                                        r"argument 'zzz'$"):
        fn.with_options(zzz=1)  # type: ignore[call-arg]


def test_an_option_nothing_is_close_to_keeps_prefects_message() -> None:
    with pytest.raises(TypeError, match=r"^task\(\) got an unexpected keyword argument 'zzz'$"):
        task(zzz=1)  # type: ignore[call-overload]


def test_an_api_url_without_a_scheme_is_refused_with_the_form() -> None:
    with pytest.raises(SettingsError, match=r"HEADWATER_API_URL='localhost:4200/api'.*"
                                            r"http://HOST:PORT/api"), \
            temporary_settings(HEADWATER_API_URL="localhost:4200/api"):
        pass
    with temporary_settings(HEADWATER_API_URL="https://example.com/api") as settings:
        assert settings.api.url == "https://example.com/api"


def test_an_unknown_environment_name_is_reported_once_with_the_closest(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from headwater.settings import get_current_settings

    monkeypatch.setenv("HEADWATER_LOGGIN_LEVEL", "DEBUG")
    with caplog.at_level(logging.WARNING, "headwater.settings"):
        get_current_settings()
        monkeypatch.setenv("HEADWATER_HOME", str(Path.cwd()))  # a new read of the settings
        get_current_settings()
    warnings = [r.getMessage() for r in caplog.records if r.name == "headwater.settings"]
    assert len(warnings) == 1
    assert "HEADWATER_LOGGIN_LEVEL (from the environment) is not a headwater setting" in (
        warnings[0])
    assert "did you mean 'HEADWATER_LOGGING_LEVEL'?" in warnings[0]


def test_names_headwater_reads_elsewhere_are_not_reported(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from headwater.settings import get_current_settings

    monkeypatch.setenv("HEADWATER_DEBUG", "1")
    with caplog.at_level(logging.WARNING, "headwater.settings"):
        get_current_settings()
    assert not [r for r in caplog.records if r.name == "headwater.settings"]


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("handlers:\n  console:\n    class: headwater.logging.handlers.ConsolHandler\n",
     "handlers.console.class is 'headwater.logging.handlers.ConsolHandler', which cannot be "
     "imported; did you mean 'headwater.logging.handlers.ConsoleHandler'?"),
    ("handlers:\n  console:\n    formatter: standrd\n",
     "handlers.console.formatter names the formatter 'standrd', which is not defined "
     "(defined: api, json, standard); did you mean 'standard'?"),
    ("loggers:\n  headwater:\n    handlers: [consol]\n",
     "loggers.headwater.handlers names the handler 'consol', which is not defined"),
    ("root:\n  handlers: [nope]\n", "root.handlers names the handler 'nope'"),
])
def test_a_logging_file_naming_what_does_not_exist_gets_one_clear_error(
        tmp_path: Path, yaml_text: str, expected: str) -> None:
    from headwater._private.logging_config import setup_logging

    path = tmp_path / "logging.yml"
    path.write_text(yaml_text)
    with temporary_settings(HEADWATER_LOGGING_SETTINGS_PATH=str(path)), \
            pytest.raises(SettingsError) as raised:
        setup_logging()
    assert str(raised.value) == f"The logging config {str(path)!r}: {expected}" or (
        expected in str(raised.value))
    assert "Unable to configure" not in str(raised.value)


def test_a_forgotten_await_names_the_flow() -> None:
    script = textwrap.dedent("""
        import asyncio
        from headwater import flow

        @flow
        async def nightly_report():
            return 1

        async def main():
            nightly_report()

        asyncio.run(main())
    """)
    done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True,
                          text=True, timeout=60)
    assert ("RuntimeWarning: coroutine 'nightly_report (an async flow: call it with await)' "
            "was never awaited") in done.stderr
