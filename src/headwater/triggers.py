"""Triggers: when a task runs, judged from its upstreams' final states.

A trigger is evaluated once every upstream of a task (data dependencies and
``wait_for``) is final. When it does not pass, the task does not run and its
state says why: ``NotReady`` with the message ``"TriggerFailed: all_failed,
upstream 'extract' Completed"`` (``result()`` raises `TriggerFailed`),
``Skipped`` or ``Paused``.

| Trigger | Runs when |
|---------|-----------|
| `all_successful` (default) | every upstream completed; a skipped upstream skips the task |
| `all_failed` | every upstream failed or crashed |
| `any_successful` | at least one upstream completed |
| `any_failed` | at least one upstream failed or crashed |
| `all_finished` / `always_run` | always |
| `manual_only` | never on its own: the task ends ``Paused`` |
| `none_failed` | every upstream completed or was skipped |

Example:
    >>> from headwater import task
    >>> from headwater.triggers import all_failed
    >>> @task(trigger=all_failed)
    ... def alert() -> None:
    ...     send_page("the load failed")
"""

from headwater._private.triggers import (
    TriggerOutcome,
    TriggerResult,
    Upstreams,
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    evaluate_trigger,
    manual_only,
    none_failed,
)
from headwater.exceptions import TriggerFailed

__all__ = [
    "TriggerFailed",
    "TriggerOutcome",
    "TriggerResult",
    "Upstreams",
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "evaluate_trigger",
    "manual_only",
    "none_failed",
]
