"""Checking an entrypoint ``path/file.py:fn`` statically, with griffe: nothing is executed.

``headwater deploy`` (and ``Flow.deploy``) check that ``fn`` is a flow before
registering anything: a function decorated with ``@flow`` (``@flow(...)``,
``@headwater.flow``...) at the top level of the file, or a top-level
``name = flow(...)(fn)``. Anything else gets one message that says what was
found and how to fix it, listing the flows the file does define.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater._private.deployments.code import CodeNotFoundError, split_entrypoint

__all__ = ["EntrypointError", "FoundFlow", "check_entrypoint", "find_flows"]

#: What ``flow`` may resolve to (the rename keeps ``prefect`` imports working too).
_FLOW_PATHS = frozenset({
    "headwater.flow", "headwater.flows.flow", "headwater._private.flows.flow",
    "headwater.Flow", "headwater.flows.Flow", "headwater._private.flows.Flow",
    "prefect.flow", "prefect.flows.flow", "prefect.Flow", "prefect.flows.Flow",
})


class EntrypointError(CodeNotFoundError):
    """An entrypoint is not a top-level flow of its file."""


@dataclass(frozen=True)
class FoundFlow:
    """A flow the file defines at its top level.

    Attributes:
        attribute: The module attribute (what an entrypoint names).
        name: The flow's name when given as a literal (``name="..."``), else
            the function's name with ``_`` as ``-``.
        line: Where it is defined.
    """

    attribute: str
    name: str
    line: int


def _is_flow_path(path: str | None) -> bool:
    return path in _FLOW_PATHS


def _call_root(expr: Any) -> Any:
    """For ``a(...)(...)``, the innermost callee ``a``."""
    while type(expr).__name__ == "ExprCall":
        expr = expr.function
    return expr


def _literal_name(call: Any) -> str | None:
    """The ``name="..."`` keyword of a griffe call expression, when it is a literal."""
    for argument in getattr(call, "arguments", ()):
        if type(argument).__name__ == "ExprKeyword" and argument.name == "name":
            text = str(argument.value)
            if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
                return text[1:-1]
    return None


def find_flows(path: Path) -> tuple[list[FoundFlow], dict[str, str]]:
    """The flows defined at the top level of ``path``, and what its other names are.

    Returns:
        The flows, in file order, and ``{name: kind}`` for the other
        top-level names ("function", "class", "task", "attribute"...).

    Raises:
        EntrypointError: The file cannot be parsed.
    """
    import griffe

    try:
        code = path.read_text(encoding="utf-8")
        module = griffe.visit(path.stem, filepath=path, code=code)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise EntrypointError(f"Could not read {str(path)!r} as Python: {exc}.") from None
    flows: list[FoundFlow] = []
    others: dict[str, str] = {}
    members: dict[str, Any] = dict(module.members)
    for attribute, member in members.items():
        if member.is_alias:
            others[attribute] = "imported name"
            continue
        kind = member.kind.value
        if kind == "function":
            for decorator in member.decorators:
                if _is_flow_path(decorator.callable_path):
                    value = decorator.value
                    name = _literal_name(value) if type(value).__name__ == "ExprCall" else None
                    flows.append(FoundFlow(attribute, name or attribute.replace("_", "-"),
                                           member.lineno or 0))
                    break
            else:
                paths = {d.callable_path for d in member.decorators}
                others[attribute] = "task" if any(p.endswith(".task") for p in paths) \
                    else ("async function" if "async" in member.labels else "function")
        elif kind == "attribute" and type(member.value).__name__ == "ExprCall":
            call: Any = member.value
            root = _call_root(call)
            if _is_flow_path(getattr(root, "canonical_path", None)):
                name = _literal_name(call.function) or _literal_name(call)
                first = next(iter(call.arguments), None)
                if name is None and type(first).__name__ == "ExprName":
                    name = str(first).replace("_", "-")  # flow(fn) is named after fn
                flows.append(FoundFlow(attribute, name or attribute.replace("_", "-"),
                                       member.lineno or 0))
            else:
                others[attribute] = "attribute"
        else:
            others[attribute] = kind
    return flows, others


def _nested_flows(code: str) -> dict[str, str]:
    """Flows defined inside functions or classes: ``{function name: where}``."""
    tree = ast.parse(code)
    found: dict[str, str] = {}

    def is_flow(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return (isinstance(target, ast.Name) and target.id == "flow") or (
            isinstance(target, ast.Attribute) and target.attr == "flow")

    def walk(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if owner is not None and not isinstance(child, ast.ClassDef) and any(
                        is_flow(d) for d in child.decorator_list):
                    found.setdefault(child.name, f"{owner} (line {child.lineno})")
                walk(child, child.name if owner is None else f"{owner}.{child.name}")
            else:
                walk(child, owner)

    walk(tree, None)
    return found


def check_entrypoint(entrypoint: str, root: Path | None = None) -> FoundFlow:
    """Check that ``entrypoint`` names a top-level flow of its file; return it.

    Args:
        entrypoint: ``"path/file.py:fn"``, relative to ``root``.
        root: The folder the path is relative to (the current folder if None).

    Raises:
        EntrypointError: The file is missing, or ``fn`` is missing, not a
            flow, or a flow defined inside a function or class; the message
            lists the flows the file defines and says how to fix it.
    """
    try:
        path_text, attribute = split_entrypoint(entrypoint)
    except CodeNotFoundError as exc:
        raise EntrypointError(str(exc)) from None
    path = Path(path_text) if root is None or Path(path_text).is_absolute() \
        else root / path_text
    if not path.is_file():
        raise EntrypointError(
            f"No file {path_text!r}{'' if root is None else f' under {str(root)!r}'}. Give "
            "the path of the flow's file relative to the current folder, e.g. "
            "'flows/etl.py:etl'.")
    flows, others = find_flows(path)
    for found in flows:
        if found.attribute == attribute:
            return found
    listing = (f"Flows defined at the top level of {path_text}: "
               f"{', '.join(f.attribute for f in flows)}." if flows
               else f"{path_text} defines no flow at its top level.")
    nested = _nested_flows(path.read_text(encoding="utf-8"))
    if attribute in nested:
        problem = (f"{attribute!r} is a flow defined inside {nested[attribute]}, which a "
                   "deployment cannot import. Move it to the top level of the file.")
    elif attribute in others:
        kind = others[attribute]
        article = "an" if kind[0] in "aeiou" else "a"
        problem = (f"{attribute!r} in {path_text} is {article} {kind}, not a flow. Decorate "
                   f"it with @flow (from headwater import flow), or name one of the flows.")
    else:
        problem = f"{path_text} has no top-level name {attribute!r}."
    raise EntrypointError(f"{problem} {listing}")
