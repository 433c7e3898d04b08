"""Run names: ``add-3`` for task runs, ``crimson-otter`` for flow runs, or user templates."""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any

from headwater.exceptions import InvalidOptionError

if TYPE_CHECKING:
    from headwater._private.flows import Flow
    from headwater._private.tasks import Task

_ADJECTIVES = (
    "amber", "brisk", "calm", "crimson", "daring", "eager", "fearless", "gentle", "golden",
    "hidden", "icy", "jolly", "keen", "lively", "mellow", "nimble", "olive", "proud",
    "quiet", "rapid", "silver", "steady", "tidy", "upbeat", "vivid", "wandering", "witty",
    "young", "zesty", "bold", "clever", "dusky", "electric", "frosty", "glowing", "humble",
)
_NOUNS = (
    "otter", "heron", "falcon", "badger", "lynx", "salmon", "beaver", "marten", "osprey",
    "trout", "kestrel", "newt", "pike", "wren", "egret", "ibis", "stoat", "vole", "moose",
    "bison", "crane", "finch", "gecko", "hare", "koala", "lemur", "mink", "orca", "puffin",
    "quail", "raven", "seal", "tapir", "urchin", "walrus", "yak", "zebra",
)
_rng = random.Random()


def random_flow_run_name() -> str:
    """Return a friendly random name such as ``crimson-otter``."""
    return f"{_rng.choice(_ADJECTIVES)}-{_rng.choice(_NOUNS)}"


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


def flow_run_name(flow: Flow[..., Any], parameters: dict[str, Any]) -> str:
    """Return the name for a new run of ``flow`` (callables are applied once it starts)."""
    template = flow.options.flow_run_name
    if isinstance(template, str):
        return _format(template, parameters, "flow_run_name", flow.name)
    return random_flow_run_name()


def task_run_name(task: Task[..., Any], key: int, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> str:
    """Return the name for a new run of ``task``: ``name-<key>`` or its template."""
    template = task.options.task_run_name
    if isinstance(template, str):
        return _format(template, task.bind(args, kwargs), "task_run_name", task.name)
    if key >= 0:
        return f"{task.name}-{key}"
    return f"{task.name}-{''.join(_rng.choices(string.hexdigits.lower()[:16], k=3))}"
