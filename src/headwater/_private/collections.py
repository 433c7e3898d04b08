"""Find futures and States inside task arguments, and swap them for their results.

Arguments are walked through lists, tuples (named ones too), dicts, sets,
frozensets and dataclass instances. ``quote(x)`` stops the walk; atoms (str,
int, bytes...) are skipped at once, so a call with plain arguments costs one
type check per argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from headwater._private.annotations import allow_failure, quote
from headwater._private.states import State

_ATOMS = (str, int, float, bool, bytes, bytearray, complex, type(None), range)

Upstream = tuple[Any, bool]  # (future or State, failure allowed)


def _is_future(obj: Any) -> bool:
    from headwater._private.futures import HeadwaterFuture

    return isinstance(obj, HeadwaterFuture)


def collect_upstreams(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Upstream]:
    """Return every future or State found in the arguments, with its allow_failure flag.

    A ``quote`` or ``allow_failure`` wrapper is reported as ``(wrapper, False)``
    too when it holds no future, so the engine knows it must unwrap it.
    """
    found: list[Upstream] = []
    for value in args:
        if not isinstance(value, _ATOMS):
            _collect(value, False, found, 0)
    for value in kwargs.values():
        if not isinstance(value, _ATOMS):
            _collect(value, False, found, 0)
    return found


def _collect(obj: Any, allowed: bool, found: list[Upstream], depth: int) -> None:
    if isinstance(obj, _ATOMS) or depth > 100:
        return
    if isinstance(obj, State) or _is_future(obj):
        found.append((obj, allowed))
    elif isinstance(obj, quote):
        found.append((obj, False))
    elif isinstance(obj, allow_failure):
        before = len(found)
        _collect(obj.value, True, found, depth + 1)
        if len(found) == before:
            found.append((obj, False))
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            _collect(item, allowed, found, depth + 1)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            _collect(key, allowed, found, depth + 1)
            _collect(item, allowed, found, depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            _collect(getattr(obj, field.name), allowed, found, depth + 1)


def resolve(obj: Any, value_of: Callable[[Any], Any]) -> Any:
    """Return ``obj`` with every future/State replaced by ``value_of(it)``.

    Containers are rebuilt only where something inside them changed, so
    untouched arguments keep their identity. ``quote`` and ``allow_failure``
    wrappers are removed.
    """
    if isinstance(obj, _ATOMS):
        return obj
    if isinstance(obj, State) or _is_future(obj):
        return value_of(obj)
    if isinstance(obj, quote):
        return obj.value
    if isinstance(obj, allow_failure):
        return resolve(obj.value, value_of)
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [resolve(item, value_of) for item in obj]
        if all(a is b for a, b in zip(items, obj, strict=True)):
            return obj
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            return type(obj)(*items)
        return type(obj)(items)
    if isinstance(obj, dict):
        pairs = [(resolve(k, value_of), resolve(v, value_of)) for k, v in obj.items()]
        if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, obj.items(), strict=True)):
            return obj
        new = obj.copy()
        new.clear()
        new.update(pairs)
        return new
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for field in dataclasses.fields(obj):
            old = getattr(obj, field.name)
            new_value = resolve(old, value_of)
            if new_value is not old:
                changes[field.name] = new_value
        if not changes:
            return obj
        import copy

        clone = copy.copy(obj)
        for name, value in changes.items():
            object.__setattr__(clone, name, value)
        return clone
    return obj
