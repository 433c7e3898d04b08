"""Run names: ``add-3`` for task runs, ``crimson-otter`` for flow runs, or user templates.

Random flow run names come from the storage core (``storage/run_names.py``),
which the server uses too for runs created without a name.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any

from headwater._private.storage.run_names import random_flow_run_name
from headwater.exceptions import InvalidOptionError

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition, TaskDefinition

_rng = random.Random()


def _format(template: str, parameters: dict[str, Any], option: str, owner: str) -> str:
    try:
        return template.format(**parameters)
    except (KeyError, IndexError) as exc:
        names = ", ".join(parameters) or "none"
        raise InvalidOptionError(
            f"The {option} template {template!r} of {owner!r} refers to {exc}, which is not "
            f"one of its parameters ({names}). Use '{{name}}' fields that match parameters."
        ) from None
    except (ValueError, AttributeError) as exc:
        raise InvalidOptionError(
            f"The {option} template {template!r} of {owner!r} cannot be formatted: {exc}."
        ) from None


def flow_run_name(flow: FlowDefinition, parameters: dict[str, Any]) -> str:
    """Return the name for a new run of ``flow`` (callables are applied once it starts)."""
    template = flow.options.flow_run_name
    if isinstance(template, str):
        return _format(template, parameters, "flow_run_name", flow.name)
    return random_flow_run_name()


def task_run_name(task: TaskDefinition, key: int, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> str:
    """Return the name for a new run of ``task``: ``name-<key>`` or its template."""
    template = task.options.task_run_name
    if isinstance(template, str):
        return _format(template, task.bind(args, kwargs), "task_run_name", task.name)
    if key >= 0:
        return f"{task.name}-{key}"
    return f"{task.name}-{''.join(_rng.choices(string.hexdigits.lower()[:16], k=3))}"
