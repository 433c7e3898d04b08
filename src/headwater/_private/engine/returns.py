"""Whether a flow's function can return None, read once from its source.

A flow that returns None hands back its child states, so its run keeps their
results (up to ``HEADWATER_FLOW_RUN_RESULT_BUDGET``). A flow whose function
returns a value on every path never hands them back: keeping them would only
cost memory. This module tells the two apart from the function's syntax
tree, once per flow, and errs towards "can return None" whenever it is not
sure (no source, a bare ``return``, a path that falls off the end...).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["always_returns_value"]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def always_returns_value(fn: Callable[..., Any]) -> bool:
    """Return True when ``fn`` visibly returns a non-None expression on every path.

    True needs: the source is readable; the body's last statement is a
    ``return <expression>`` or a ``raise``; and no ``return`` in the body
    (outside nested functions and classes) is bare or returns the literal
    ``None``. An expression that evaluates to None at run time is not seen:
    such a flow hands back child states whose results were not kept, and
    ``result()`` on them says so.
    """
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                 ast.AsyncFunctionDef)) and n.name == fn.__name__), None)
    if node is None or not node.body:
        return False
    last = node.body[-1]
    if not (isinstance(last, ast.Raise) or (isinstance(last, ast.Return)
                                            and _returns_value(last))):
        return False
    return all(_returns_value(r) for r in _returns(node.body))


def _returns_value(node: ast.Return) -> bool:
    value = node.value
    return value is not None and not (isinstance(value, ast.Constant) and value.value is None)


def _returns(body: list[ast.stmt]) -> Iterator[ast.Return]:
    """The ``return`` statements of a function body, nested scopes left out."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
