"""Rewrite Prefect 2 source code for headwater, keeping comments and layout.

Two kinds of change are made (see docs/migration.md):

* The rename: ``prefect`` -> ``headwater`` and ``Prefect`` -> ``Headwater``
  in identifiers (imports, attribute paths, names such as ``PrefectFuture``),
  ``PREFECT_`` -> ``HEADWATER_`` in identifiers and string literals, and
  string literals that are a dotted ``prefect`` module or logger path.
* The async idioms that change (docs/async.md#prefect-2-idioms-that-change):

  ======================================  ======================================
  Prefect 2 (async code)                  headwater
  ======================================  ======================================
  ``await t.submit(x)``                   ``t.submit(x)``
  ``await t.map(xs)``                     ``t.map(xs)``
  ``await t.submit(x, return_state=True)``  ``await t.submit(x).wait_async()``
  ``await future.result(...)``            ``await future.result_async(...)``
  ``await future.wait(...)``              ``await future.wait_async(...)``
  ``await state.result(fetch=True)``      ``state.result()``
  ======================================  ======================================

Code that cannot be rewritten safely without knowing types or intent is left
alone and reported as a `MigrationIssue` with its line number.

The rewrite is idempotent: migrating migrated code changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

__all__ = ["MigrationIssue", "MigrationResult", "format_issues", "migrate_source"]


class MigrationIssue(NamedTuple):
    """A place the migration did not rewrite, and why."""

    line: int
    message: str


@dataclass(frozen=True)
class MigrationResult:
    """The migrated source, and what could not be migrated safely."""

    code: str
    issues: tuple[MigrationIssue, ...] = ()
    changed: bool = False


_MODULE_PATH = re.compile(r"prefect(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_GATHERERS = frozenset({"gather", "wait", "create_task", "ensure_future", "as_completed"})


def _rename_identifier(name: str) -> str:
    return (
        name.replace("PREFECT_", "HEADWATER_")
        .replace("Prefect", "Headwater")
        .replace("prefect", "headwater")
    )


def _rename_string(quoted: str) -> str:
    """Rename inside a string literal, quotes and prefix included."""
    body_start = len(quoted) - len(quoted.lstrip("rbuRBUfF"))
    prefix, rest = quoted[:body_start], quoted[body_start:]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    body = rest[len(quote):-len(quote)]
    if _MODULE_PATH.fullmatch(body):
        body = "headwater" + body[len("prefect"):]
    return prefix + quote + body.replace("PREFECT_", "HEADWATER_") + quote


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _is_true(arg: cst.Arg | None) -> bool:
    return arg is not None and m.matches(arg.value, m.Name("True"))


def _without(call: cst.Call, arg: cst.Arg) -> cst.Call:
    args = [a for a in call.args if a is not arg]
    if args:
        # The new last argument must not keep a trailing comma it did not have.
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
    return call.with_changes(args=args)


def _method(call: cst.Call) -> str | None:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else None


def _renamed_method(call: cst.Call, name: str) -> cst.Call:
    func = call.func
    assert isinstance(func, cst.Attribute)
    return call.with_changes(func=func.with_changes(attr=cst.Name(name)))


class _Migrator(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.issues: list[MigrationIssue] = []
        self._async_depth: list[bool] = []
        self._awaited: set[int] = set()

    def _report(self, node: cst.CSTNode, message: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.issues.append(MigrationIssue(line, message))

    # -- where we are ---------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._async_depth.append(node.asynchronous is not None)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self._async_depth.pop()
        return updated_node

    @property
    def _in_async(self) -> bool:
        return bool(self._async_depth) and self._async_depth[-1]

    # -- the rename -----------------------------------------------------------

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        renamed = _rename_identifier(updated_node.value)
        return updated_node if renamed == updated_node.value else updated_node.with_changes(
            value=renamed
        )

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        renamed = _rename_string(updated_node.value)
        return updated_node.with_changes(value=renamed)

    def leave_FormattedStringText(
        self, original_node: cst.FormattedStringText, updated_node: cst.FormattedStringText
    ) -> cst.FormattedStringText:
        return updated_node.with_changes(
            value=updated_node.value.replace("PREFECT_", "HEADWATER_")
        )

    # -- async idioms ---------------------------------------------------------

    def leave_Await(
        self, original_node: cst.Await, updated_node: cst.Await
    ) -> cst.BaseExpression:
        call = updated_node.expression
        if not isinstance(call, cst.Call):
            return updated_node
        method = _method(call)
        if method in ("submit", "map"):
            return self._unawait_submit(original_node, updated_node, call, method)
        if method == "result":
            fetch = _keyword(call, "fetch")
            if fetch is not None:
                if not _is_true(fetch):
                    self._report(original_node, "'fetch=' with a value other than True: "
                                 "rewritten as a blocking 'state.result()'")
                return _without(call, fetch).with_changes(
                    lpar=updated_node.lpar, rpar=updated_node.rpar
                )
            return updated_node.with_changes(expression=_renamed_method(call, "result_async"))
        if method == "wait":
            return updated_node.with_changes(expression=_renamed_method(call, "wait_async"))
        return updated_node

    def _unawait_submit(
        self, original: cst.Await, updated: cst.Await, call: cst.Call, method: str
    ) -> cst.BaseExpression:
        return_state = _keyword(call, "return_state")
        if return_state is None:
            return call.with_changes(lpar=updated.lpar, rpar=updated.rpar)
        if method == "map" or not _is_true(return_state):
            self._report(
                original,
                f"'await ....{method}(..., return_state=...)': not rewritten; write "
                f"'await ....{method}(...).wait_async()' (a map's futures: wait_async(), "
                "then each future's state)",
            )
            return updated
        waited = cst.Call(
            func=cst.Attribute(value=_without(call, return_state), attr=cst.Name("wait_async"))
        )
        return updated.with_changes(expression=waited)

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        method = _method(node)
        if method == "map":
            self._check_map_args(node)
        if self._in_async and method in ("result", "wait") and id(node) not in self._awaited:
            self._check_blocking_call(node, method)
        func = node.func
        if (
            self._in_async
            and isinstance(func, cst.Attribute)
            and func.attr.value in _GATHERERS
            and m.matches(func.value, m.Name("asyncio"))
        ):
            self._check_gathered(node, func.attr.value)

    def _check_map_args(self, node: cst.Call) -> None:
        for arg in node.args:
            if isinstance(arg.value, (cst.Dict, cst.DictComp)):
                self._report(
                    arg, "'.map()' over a dict: Prefect 2 maps over its keys, headwater "
                    "passes the whole dict to every run (docs/migration.md#dicts-are-not-"
                    "mapped-over); map over d.keys() explicitly",
                )

    def _check_blocking_call(self, node: cst.Call, method: str) -> None:
        # Prefect 2 made a future of a *sync* task blocking even in async code;
        # headwater raises AsyncContextError there. A state's result() is fine,
        # and nothing here says which of the two (or neither) the object is.
        if method == "result" and _keyword(node, "fetch") is not None:
            return
        self._report(
            node, f"'.{method}()' not awaited in an async function: if this is a future, "
            f"headwater raises AsyncContextError; write 'await ....{method}_async()' "
            "(docs/migration.md#blocking-future-methods-raise-in-async-code)",
        )

    def _check_gathered(self, node: cst.Call, gatherer: str) -> None:
        for inner in m.findall(node, m.Call(func=m.Attribute(attr=m.Name()))):
            assert isinstance(inner, cst.Call)
            method = _method(inner)
            if method in ("submit", "map", "result", "wait"):
                self._report(
                    node, f"'asyncio.{gatherer}()' of '.{method}()' calls: in headwater "
                    "'.submit()'/'.map()' return futures, not coroutines; gather "
                    "'future.wait_async()' or 'future.result_async()' instead",
                )
                return

    def leave_ImportFrom(self, original_node: cst.ImportFrom,
                         updated_node: cst.ImportFrom) -> cst.ImportFrom:
        # prefect-dask is a package of its own; headwater's Dask support is the
        # headwater[dask] extra, whose public names all live in headwater.dask.
        if updated_node.relative or updated_node.module is None:
            return updated_node
        module = cst.Module([]).code_for_node(updated_node.module)
        if module == "headwater_dask" or module.startswith("headwater_dask."):
            return updated_node.with_changes(
                module=cst.Attribute(value=cst.Name("headwater"), attr=cst.Name("dask")))
        return updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = cst.Module([]).code_for_node(node.module)
        if module == "prefect" or module.startswith("prefect."):
            self._check_module_exists(node, _rename_identifier(module))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = cst.Module([]).code_for_node(alias.name)
            if module.startswith("prefect."):
                self._check_module_exists(node, _rename_identifier(module))

    def _check_module_exists(self, node: cst.CSTNode, module: str) -> None:
        import importlib.util

        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            self._report(node, f"headwater has no module '{module}'")


def migrate_source(text: str) -> MigrationResult:
    """Rewrite Prefect 2 source ``text`` for headwater.

    Args:
        text: Python source written for Prefect 2 (or already migrated).

    Returns:
        The new source, with comments and formatting kept, and the issues:
        places left as they were because no rewrite is known to be safe.

    Raises:
        libcst.ParserSyntaxError: ``text`` is not valid Python.
    """
    module = cst.parse_module(text)
    migrator = _Migrator()
    new = MetadataWrapper(module).visit(migrator)
    issues = tuple(sorted(set(migrator.issues)))
    return MigrationResult(code=new.code, issues=issues, changed=new.code != text)


def format_issues(issues: Sequence[MigrationIssue], filename: str = "<source>") -> str:
    """Render issues one per line as ``file:line: message``."""
    return "\n".join(f"{filename}:{line}: {message}" for line, message in issues)
