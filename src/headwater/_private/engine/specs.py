"""What a machine knows about its run: small immutable descriptions, made by the jobs.

A machine gets one of these plus the call's inputs, never the job: it cannot
reach the runner, the future or the context, only the options, the run
record it keeps up to date, and the settings the job read for it. So a test
can build one by hand and drive a machine step by step.

``TaskRunSpec`` is made once per task run, on the hot path, so it is a step
type (frozen for mypy, see ``steps.py``); the others are made once per flow
run and are frozen dataclasses through and through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater._private.engine.steps import step_type

if TYPE_CHECKING:
    from headwater._private.cancellation import CancelScope
    from headwater._private.context import RunTracker
    from headwater._private.options import FlowDefinition, FlowOptions, TaskDefinition, TaskOptions
    from headwater._private.protocols import FlowOptionsView
    from headwater._private.run_records import FlowRun, TaskRun


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The settings the machines act on, read once per flow run (or orphan task run)."""

    refresh_cache: bool = False
    """``HEADWATER_TASKS_REFRESH_CACHE``: ignore cached results (a task option overrides it)."""
    persist_by_default: bool = False
    """``HEADWATER_RESULTS_PERSIST_BY_DEFAULT``: persist results no option asks about."""
    result_budget: int = 64 * 1024 * 1024
    """``HEADWATER_FLOW_RUN_RESULT_BUDGET``: bytes of child results a flow run keeps."""
    version_lock: bool = False
    """Claim each task run before its first attempt (the flow run's version lock)."""


@step_type(frozen=True, slots=True)
class TaskRunSpec:
    """One task run as its machine sees it.

    Attributes:
        task: The task (its function, options and name; hooks receive it).
        run: The run record; the machine sets its state and counters.
        flow_run: The run of the flow it belongs to, if any.
        flow_options: That flow's options (result defaults), if any.
        scope: The flow run's cancel scope, checked at the machine's checkpoints.
        settings: The settings read for it.
    """

    task: TaskDefinition
    run: TaskRun
    flow_run: FlowRun | None = None
    flow_options: FlowOptionsView | None = None
    scope: CancelScope | None = None
    settings: EngineSettings = EngineSettings()

    @property
    def options(self) -> TaskOptions:
        """The task's options."""
        return self.task.options


@dataclass(frozen=True, slots=True)
class FlowRunSpec:
    """One flow run as its machine sees it.

    Attributes:
        flow: The flow (its options and name; hooks receive it).
        run: The run record; the machine sets its state and counters.
        body: The function to call with the validated parameters.
        tracker: The run's child bookkeeping (waited for, summarized, reset on retry).
        scope: The run's cancel scope.
        parent_scope: The calling flow run's cancel scope, if any.
        settings: The settings read for it.
    """

    flow: FlowDefinition
    run: FlowRun
    body: Callable[..., Any]
    tracker: RunTracker
    scope: CancelScope | None = None
    parent_scope: CancelScope | None = None
    settings: EngineSettings = EngineSettings()

    @property
    def options(self) -> FlowOptions:
        """The flow's options."""
        return self.flow.options
