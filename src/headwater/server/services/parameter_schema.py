"""Checking parameters against a deployment's ``parameter_openapi_schema``.

The schema is the one headwater (and Prefect 2) generates for a flow's
signature with pydantic: an object schema whose properties use ``type``,
``enum``/``const``, ``anyOf``/``oneOf``/``allOf``, ``items``, nested
``properties``/``required`` and ``$ref`` into ``definitions`` (or
``$defs``). This checks that vocabulary, which is what flow signatures
produce; keywords it does not know (formats, lengths, patterns) are not
checked here: the flow validates its arguments with pydantic when it runs.
No JSON Schema library is needed for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ParameterError", "check_parameters", "missing_required"]

_TYPES: dict[str, Any] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "array": (list, tuple), "object": dict, "null": type(None),
}


class ParameterError(ValueError):
    """Raised when parameters do not fit a deployment's schema (the message names them)."""


def missing_required(schema: Mapping[str, Any] | None, supplied: Iterable[str]) -> list[str]:
    """The schema's required parameters that are not in ``supplied``, in order."""
    if not schema:
        return []
    have = set(supplied)
    return [name for name in schema.get("required", ()) if name not in have]


def check_parameters(schema: Mapping[str, Any] | None, parameters: Mapping[str, Any], *,
                     complete: bool) -> None:
    """Check ``parameters`` against ``schema``.

    Args:
        schema: The flow's parameter schema (None: nothing to check).
        parameters: The values, by parameter name.
        complete: The values are all a run gets: required ones must be there.

    Raises:
        ParameterError: A value of the wrong type, an unknown parameter, or
            (``complete``) a missing required one; the message names each.
    """
    if not schema:
        return
    problems: list[str] = []
    properties = schema.get("properties") or {}
    if complete:
        missing = missing_required(schema, parameters)
        if missing:
            problems.append(f"missing required parameter(s) {', '.join(map(repr, missing))}")
    for name, value in parameters.items():
        if name not in properties:
            # Allowed unless the schema says otherwise (JSON Schema's default):
            # a flow taking **kwargs has no property for them.
            if schema.get("additionalProperties") is False:
                problems.append(f"{name!r} is not a parameter of the flow "
                                f"(its parameters: {', '.join(properties) or 'none'})")
            continue
        error = _check(properties[name], value, schema, depth=0)
        if error is not None:
            problems.append(f"parameter {name!r}: {error}")
    if problems:
        raise ParameterError("; ".join(problems))


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    key = ref.rsplit("/", 1)[-1]
    for section in ("definitions", "$defs"):
        found = (root.get(section) or {}).get(key)
        if isinstance(found, Mapping):
            return found
    return {}  # an unknown reference checks nothing


def _type_ok(expected: str, value: Any) -> bool:
    kind = _TYPES.get(expected)
    if kind is None:
        return True
    if expected in ("integer", "number") and isinstance(value, bool):
        return False
    if expected == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, kind)


def _check(node: Mapping[str, Any], value: Any, root: Mapping[str, Any], *,
           depth: int) -> str | None:
    """Why ``value`` does not fit ``node``, or None."""
    if depth > 50:
        return None
    node = _resolve(node, root)
    for part in node.get("allOf", ()):
        error = _check(part, value, root, depth=depth + 1)
        if error is not None:
            return error
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if options and all(_check(o, value, root, depth=depth + 1) is not None for o in options):
            return f"{_short(value)} matches none of the allowed types"
    if "enum" in node and value not in node["enum"]:
        return f"{_short(value)} is not one of {node['enum']!r}"
    if "const" in node and value != node["const"]:
        return f"{_short(value)} is not {node['const']!r}"
    expected = node.get("type")
    types = expected if isinstance(expected, list) else [expected] if expected else []
    if types and not any(_type_ok(t, value) for t in types):
        return f"{_short(value)} is not of type {' or '.join(types)}"
    if isinstance(value, (list, tuple)) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(value):
            error = _check(node["items"], item, root, depth=depth + 1)
            if error is not None:
                return f"item {index}: {error}"
    if isinstance(value, dict) and "properties" in node:
        for name in node.get("required", ()):
            if name not in value:
                return f"missing field {name!r}"
        for name, item in value.items():
            sub = node["properties"].get(name)
            error = None if sub is None else _check(sub, item, root, depth=depth + 1)
            if error is not None:
                return f"field {name!r}: {error}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
