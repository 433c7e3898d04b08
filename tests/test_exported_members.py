"""Every public module's ``__all__`` names real members, and star imports match it."""

from __future__ import annotations

import importlib

import pytest

import headwater
from headwater import exceptions

PUBLIC_MODULES = [
    "headwater",
    "headwater.cli",
    "headwater.client",
    "headwater.client.orchestration",
    "headwater.client.schemas",
    "headwater.client.schemas.actions",
    "headwater.client.schemas.objects",
    "headwater.client.schemas.schedules",
    "headwater.concurrency",
    "headwater.concurrency.asyncio",
    "headwater.concurrency.sync",
    "headwater.context",
    "headwater.dask",
    "headwater.deployments",
    "headwater.deployments.runner",
    "headwater.engine",
    "headwater.exceptions",
    "headwater.flows",
    "headwater.futures",
    "headwater.logging",
    "headwater.pausing",
    "headwater.runs",
    "headwater.runtime",
    "headwater.runtime.deployment",
    "headwater.runtime.flow_run",
    "headwater.runtime.task_run",
    "headwater.schedules",
    "headwater.serializers",
    "headwater.settings",
    "headwater.signals",
    "headwater.states",
    "headwater.task_runners",
    "headwater.tasks",
    "headwater.testing",
    "headwater.testing.utilities",
    "headwater.triggers",
    "headwater.utilities.annotations",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_names_exist(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_has_no_duplicates(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_star_import_matches_all(module_name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)
    namespace.pop("__builtins__")
    module = importlib.import_module(module_name)
    assert set(namespace) == set(module.__all__)


def test_documented_top_level_names_import() -> None:
    from headwater import (  # noqa: F401
        Flow,
        HeadwaterFuture,
        State,
        Task,
        allow_failure,
        as_completed,
        flow,
        get_run_context,
        get_run_logger,
        quote,
        runtime,
        tags,
        task,
        unmapped,
        wait,
    )

    assert runtime.flow_run.id is None


def test_unknown_top_level_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        headwater.no_such_thing  # noqa: B018


def test_version_is_a_string() -> None:
    assert isinstance(headwater.__version__, str) and headwater.__version__


@pytest.mark.parametrize("cls", [headwater.Flow, headwater.Task, headwater.State,
                                 headwater.HeadwaterFuture])
def test_public_classes_report_headwater_module(cls: type) -> None:
    assert cls.__module__ == "headwater"


@pytest.mark.parametrize(
    ("name", "bases"),
    [
        ("MissingContextError", (RuntimeError,)),
        ("AsyncContextError", (RuntimeError,)),
        ("DeadlockError", (RuntimeError,)),
        ("ParameterBindError", (TypeError,)),
        ("ParameterTypeError", (TypeError,)),
        ("MappingLengthMismatch", (ValueError,)),
        ("MappingMissingIterable", (ValueError,)),
        ("InvalidOptionError", (ValueError,)),
        ("MissingResult", ()),
        ("UnfinishedRun", ()),
        ("UpstreamTaskError", ()),
        ("FailedRun", ()),
        ("CrashedRun", ()),
        ("CancelledRun", ()),
        ("PausedRun", ()),
        ("TaskRunTimeoutError", (TimeoutError,)),
        ("FlowRunTimeoutError", (TimeoutError,)),
    ],
)
def test_exception_hierarchy(name: str, bases: tuple[type, ...]) -> None:
    cls = getattr(exceptions, name)
    assert issubclass(cls, exceptions.HeadwaterException)
    for base in bases:
        assert issubclass(cls, base)


def test_termination_signal_is_not_an_exception() -> None:
    assert issubclass(exceptions.TerminationSignal, BaseException)
    assert not issubclass(exceptions.TerminationSignal, Exception)
    assert "SIGTERM" in str(exceptions.TerminationSignal())


def test_concurrent_task_runner_is_an_alias() -> None:
    from headwater.task_runners import ConcurrentTaskRunner, ThreadPoolTaskRunner

    assert ConcurrentTaskRunner is ThreadPoolTaskRunner


# Every public class of prefect.exceptions in Prefect 2.20, renamed.
PREFECT_2_EXCEPTION_NAMES = [
    "Abort",
    "BlockMissingCapabilities",
    "CancelledRun",
    "CrashedRun",
    "ExternalSignal",
    "FailedRun",
    "FlowPauseTimeout",
    "FlowRunWaitTimeout",
    "FlowScriptError",
    "HeadwaterException",
    "HeadwaterHTTPStatusError",
    "HeadwaterSignal",
    "InfrastructureError",
    "InfrastructureNotAvailable",
    "InfrastructureNotFound",
    "InvalidNameError",
    "InvalidRepositoryURLError",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "MissingContextError",
    "MissingFlowError",
    "MissingProfileError",
    "MissingResult",
    "NotPausedError",
    "ObjectAlreadyExists",
    "ObjectNotFound",
    "ParameterBindError",
    "ParameterTypeError",
    "Pause",
    "PausedRun",
    "ProtectedBlockError",
    "ReservedArgumentError",
    "ScriptError",
    "SignatureMismatchError",
    "TerminationSignal",
    "UnfinishedRun",
    "UnspecifiedFlowError",
    "UpstreamTaskError",
]


@pytest.mark.parametrize("name", PREFECT_2_EXCEPTION_NAMES)
def test_every_prefect_2_exception_name_exists(name: str) -> None:
    assert isinstance(getattr(exceptions, name), type)


def test_misuse_errors_subclass_prefect_2s_builtin_class() -> None:
    assert issubclass(exceptions.InvalidHookError, TypeError)
    assert issubclass(exceptions.InvalidHookError, exceptions.InvalidOptionError)
    assert issubclass(exceptions.InvalidNameError, ValueError)
    assert issubclass(exceptions.ReservedArgumentError, TypeError)
    assert issubclass(exceptions.TriggerFailed, exceptions.UnfinishedRun)


def test_http_status_error_is_httpx_s_and_loaded_lazily() -> None:
    import httpx

    assert issubclass(exceptions.HeadwaterHTTPStatusError, httpx.HTTPStatusError)
    assert exceptions.HeadwaterHTTPStatusError.__module__ == "headwater.exceptions"
