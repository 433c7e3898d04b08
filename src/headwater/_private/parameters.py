"""Flow and task parameters: binding calls, validating with pydantic, JSON schema.

pydantic and griffe are imported on first use, not on ``import headwater``.
Validators are built once per function and cached on the flow.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater.exceptions import ParameterBindError, ParameterTypeError, ReservedArgumentError

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition

_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
RESERVED_ARGUMENTS = ("return_state", "wait_for")
"""Keywords every flow and task call takes for itself, so no parameter may have these names."""


def check_reserved_arguments(fn: Callable[..., Any], signature: inspect.Signature,
                             kind: str) -> None:
    """Refuse a function that has a parameter a flow or task call reserves.

    Raises:
        ReservedArgumentError: A parameter is named ``return_state`` or ``wait_for``.
    """
    for name in RESERVED_ARGUMENTS:
        if name in signature.parameters:
            raise ReservedArgumentError(
                f"{name!r} is a reserved argument name and cannot be used: every {kind} call "
                f"takes {name}= for itself. Rename the parameter of "
                f"{getattr(fn, '__qualname__', fn)!r}.")


class ParameterSchema(dict[str, Any]):
    """The JSON schema of a flow's parameters: a dict, with Prefect 2's attributes.

    ``flow.parameters.properties`` and ``flow.parameters["properties"]`` are
    the same object, so code written for either keeps working.
    """

    @property
    def title(self) -> str:
        """The schema's title, ``"Parameters"``."""
        return str(self["title"])

    @property
    def type(self) -> str:
        """The schema's type, ``"object"``."""
        return str(self["type"])

    @property
    def properties(self) -> dict[str, Any]:
        """Each parameter's schema, by parameter name."""
        return self["properties"]  # type: ignore[no-any-return]

    @property
    def required(self) -> list[str]:
        """The names of the parameters that have no default."""
        return self["required"]  # type: ignore[no-any-return]

    @property
    def definitions(self) -> dict[str, Any]:
        """The schemas the parameter schemas refer to."""
        return self["definitions"]  # type: ignore[no-any-return]


def bind_parameters(fn: Callable[..., Any], signature: inspect.Signature,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return the call's arguments by parameter name, defaults included.

    Raises:
        ParameterBindError: The arguments do not fit the signature; the message
            names the function, the problem and the signature.
    """
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ParameterBindError(
            f"Error binding parameters for function {fn.__name__!r}: {exc}.\n"
            f"Function {fn.__name__!r} has signature {fn.__name__}{signature}; "
            f"received args: {_short(args)} and kwargs: {_short(kwargs)}."
        ) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def call_arguments(flow: FlowDefinition,
                   parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Turn a parameters dict back into ``(args, kwargs)`` for the function."""
    known = {k: v for k, v in parameters.items() if k in flow.signature.parameters}
    bound = inspect.BoundArguments(flow.signature, known)
    return bound.args, bound.kwargs


def prepare_validators(flow: FlowDefinition) -> None:
    """Build (and cache on the flow) the validators for its parameters."""
    _adapters(flow)


def _adapters(flow: FlowDefinition) -> dict[str, Any]:
    cached = flow._validators
    if cached is not None:
        return cached
    hints = _type_hints(flow.fn)
    adapters: dict[str, Any] = {}
    if not any(h is not Any for n, h in hints.items() if n != "return"):
        flow._validators = adapters
        return adapters  # nothing to check: don't pay for importing pydantic
    from pydantic import ConfigDict, TypeAdapter

    for name, param in flow.signature.parameters.items():
        hint = hints.get(name, inspect.Parameter.empty)
        if hint is inspect.Parameter.empty or hint is Any:
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            hint = tuple[hint, ...]  # type: ignore[valid-type]
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            hint = dict[str, hint]  # type: ignore[valid-type]
        try:
            adapters[name] = TypeAdapter(hint, config=ConfigDict(arbitrary_types_allowed=True))
        except Exception:
            try:
                adapters[name] = TypeAdapter(hint)
            except Exception:
                continue  # a hint pydantic cannot check is not checked
    flow._validators = adapters
    return adapters


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        import typing

        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        return {
            name: p.annotation for name, p in inspect.signature(fn).parameters.items()
            if p.annotation is not inspect.Parameter.empty and not isinstance(p.annotation, str)
        }


def validate_parameters(flow: FlowDefinition, parameters: dict[str, Any]) -> dict[str, Any]:
    """Validate and coerce parameters against the flow's type hints.

    Raises:
        ParameterTypeError: Naming each bad parameter, its value and the
            expected type.
    """
    adapters = _adapters(flow)
    if not adapters:
        return parameters
    from pydantic import ValidationError

    out = dict(parameters)
    problems: list[str] = []
    for name, adapter in adapters.items():
        if name not in out:
            continue
        value = out[name]
        param = flow.signature.parameters[name]
        if value is param.default and param.default is not inspect.Parameter.empty:
            continue  # defaults are the author's choice; never re-validated
        try:
            out[name] = adapter.validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            expected = _type_name(adapter)
            problems.append(
                f"parameter {name!r}: value {_short(value)} ({type(value).__name__}) is not a "
                f"valid {expected}: {first.get('msg')}" + (f" at {where!r}" if where else "")
            )
    if problems:
        raise ParameterTypeError(
            f"Flow {flow.name!r} got invalid parameters: " + "; ".join(problems)
            + ". Pass values of the annotated types, or set validate_parameters=False."
        )
    return out


def _type_name(adapter: Any) -> str:
    core = getattr(adapter, "_type", None)
    if core is None:
        return "value"
    return getattr(core, "__name__", None) or str(core).replace("typing.", "")


def parameter_schema(flow: FlowDefinition) -> ParameterSchema:
    """Return the JSON schema of the flow's parameters, with docstring descriptions."""
    from pydantic import ConfigDict, Field, create_model

    hints = _type_hints(flow.fn)
    descriptions = _docstring_params(flow.fn)
    fields: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for position, (name, param) in enumerate(flow.signature.parameters.items()):
        if param.kind in _VAR:
            continue
        hint = hints.get(name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        safe = f"p{position}"
        aliases[safe] = name
        fields[safe] = (hint, Field(default=default, alias=name, title=name,
                                    description=descriptions.get(name),
                                    json_schema_extra={"position": position}))
    model = create_model(
        "Parameters", __config__=ConfigDict(arbitrary_types_allowed=True), **fields
    )
    try:
        schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    except Exception:
        schema = {"title": "Parameters", "type": "object",
                  "properties": {aliases[k]: {"title": aliases[k]} for k in fields}}
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    schema["definitions"] = schema.pop("$defs", {})
    schema.setdefault("title", "Parameters")
    schema.setdefault("type", "object")
    return ParameterSchema(schema)


def _docstring_params(fn: Callable[..., Any]) -> dict[str, str]:
    doc = inspect.getdoc(fn)
    if not doc:
        return {}
    import logging

    from griffe import Docstring, DocstringSectionKind

    griffe_logger = logging.getLogger("griffe")
    previous = griffe_logger.disabled
    griffe_logger.disabled = True  # griffe warns about undocumented style quirks
    try:
        found: dict[str, str] = {}
        for style in ("google", "numpy", "sphinx"):
            sections = Docstring(doc).parse(style)
            for section in sections:
                if section.kind is DocstringSectionKind.parameters:
                    for item in section.value:
                        if item.description:
                            found.setdefault(item.name, item.description)
            if found:
                break
        return found
    finally:
        griffe_logger.disabled = previous
