"""The layers of ``src/headwater``, checked on the source: who may import whom.

Every module is parsed with :mod:`ast` and every import counts: top-level
ones, those inside functions (lazy imports), those under ``TYPE_CHECKING``,
and relative ones (resolved against the importing package). Nothing is
imported, so the checks are fast and see code paths no test runs.

The rules (``docs/architecture.md``):

- the runtime (``headwater._private``) never imports the server
  (``headwater.server``): it writes through the storage core;
- the storage core (``headwater._private.storage``) imports only the
  standard library and itself;
- the runtime is layered, bottom to top, and a module imports only from its
  own layer or lower ones (``LAYERS``; every module under
  ``headwater._private`` has a layer):

  0. ``storage``, ``driving``, ``clock``, ``ids``, ``files``, ``settings``,
     ``background``, ``target``, ``sigterm``, ``migrate`` (the codemod: libcst
     only), ``http_errors`` (httpx only), ``headwater.exceptions``
  1. ``states``, ``run_records``, ``protocols`` (what lower layers know of
     tasks, flows and jobs), ``schedules`` (schedule objects and the pure
     scheduler planner: the clock only)
  2. ``context``, ``futures``, ``collections``, ``annotations``, ``runners``,
     ``run_views``
  3. ``options``, ``names``, ``parameters``, ``cache_policies``, ``results``,
     ``caching``, ``triggers``, ``signal_states``
  4. ``run_logging``, ``logging_config``, ``log_handlers``, ``log_formatters``,
     ``recording``
  5. ``engine``, ``cancellation``, ``concurrency``, ``remote_control``,
     ``pausing``, ``suspending``, ``flow_run_watch``, ``flow_run_readers``, ``dask`` (the
     DaskTaskRunner: the engine's remote runs on Dask)
  6. ``tasks``, ``flows``, ``deployments`` (serve, deploy, run_deployment, running a
     stored run), the public modules (``headwater.runtime``...)

  A lower module that needs a higher one types against a protocol of
  ``protocols.py`` or ``options.py`` (``TaskLike``, ``TaskDefinition``,
  ``RunnableJob``...), takes plain arguments, or is handed a callable by the
  higher module when that is imported (``states.model.in_sync_run``,
  ``caching.run_logger``). The client (``headwater.client``), which the
  recorder and the remote controls use, is outside these layers;
- the import graph has no cycle of more than ``MAX_CYCLE`` modules (the
  layers keep cycles within one layer).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STORAGE = "headwater._private.storage"

# Modules (or packages) under ``headwater._private`` that may import ``headwater.server``:
# none. The CLI, which starts and manages the server, lives in ``headwater.cli``.
SERVER_IMPORTS_ALLOWED: tuple[str, ...] = ()
# The one step loop pair (``drive``/``drive_async``), a standard-library leaf
# below the storage core, which drives its statement generators with it.
STORAGE_MAY_IMPORT = ("headwater._private.driving",)
# The largest strongly connected component of the import graph (every import
# counted, TYPE_CHECKING and lazy ones too): today three modules, e.g. options,
# cache_policies and caching (validating cache_policy; policies use cache keys).
MAX_CYCLE = 3
PRIVATE = "headwater._private"
# The runtime's layers, bottom to top: (modules or packages under headwater._private).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("storage", "driving", "clock", "ids", "files", "settings", "background", "target",
     "sigterm", "migrate", "http_errors", "did_you_mean", "heartbeats", "zombie_check",
     "version_lock",
     "labels"),
    ("states", "run_records", "protocols", "schedules"),
    ("context", "futures", "collections", "annotations", "runners", "run_views"),
    ("options", "names", "parameters", "cache_policies", "results", "caching", "triggers",
     "signal_states"),
    ("run_logging", "logging_config", "logging_check", "log_handlers", "log_console",
     "log_formatters", "recording"),
    ("engine", "cancellation", "concurrency", "remote_control", "pausing", "suspending",
     "flow_run_watch", "flow_run_readers", "dask", "workers"),
    ("tasks", "flows", "deployments"),
)
# Outside headwater._private: the exceptions at the bottom, the public modules on top.
TOP = len(LAYERS)


class Import(NamedTuple):
    """One import in one module: what it names, resolved, and where."""

    importer: str
    target: str
    line: int

    def __str__(self) -> str:
        path = self.importer.replace(".", "/")
        return f"{path} (line {self.line}) imports {self.target}"


def find_modules(src: Path = SRC) -> dict[str, Path]:
    """Every module under ``src/headwater`` by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in sorted((src / "headwater").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names before its ``import``."""
    if not node.level:
        return node.module or ""
    package = importer.split(".")
    if not is_package:
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, path: Path, modules: Mapping[str, Path]) -> Iterator[Import]:
    """Every import in the module ``name``, anywhere in its source.

    ``from package import name`` names the submodule ``package.name`` when
    there is one, else ``package`` itself.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Import(name, sub if sub in modules else base, node.lineno)


def all_imports(modules: Mapping[str, Path]) -> list[Import]:
    """The imports of every module."""
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """``module -> modules of headwater it imports`` (each import's closest module)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for imp in all_imports(modules):
        target = imp.target
        while target and target not in modules:  # ``import a.b.name_in_b``: the module a.b
            target = target.rpartition(".")[0]
        if target and target != imp.importer:
            graph[imp.importer].add(target)
    return graph


def strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph``, largest first (Tarjan, iterative).

    A component of more than one module is an import cycle: importing any
    of its modules may import all of them, in an order that depends on who
    came first.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return sorted(components, key=lambda c: (-len(c), c))


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return find_modules()


def _report(offending: list[Import], rule: str) -> str:
    return f"{rule}; {len(offending)} offending import(s):\n" + "\n".join(
        f"  {imp}" for imp in offending)


def test_the_runtime_never_imports_the_server(modules: dict[str, Path]) -> None:
    offending = [
        imp for imp in all_imports(modules)
        if _within(imp.importer, "headwater._private") and _within(imp.target, "headwater.server")
        and not any(_within(imp.importer, allowed) for allowed in SERVER_IMPORTS_ALLOWED)]
    assert not offending, _report(
        offending, "headwater._private must not import headwater.server (use the storage "
        "core, headwater._private.storage, or go through the client)")


def test_the_storage_core_imports_only_the_standard_library(modules: dict[str, Path]) -> None:
    stdlib = sys.stdlib_module_names
    offending = [
        imp for imp in all_imports(modules)
        if _within(imp.importer, STORAGE) and not _within(imp.target, STORAGE)
        and imp.target.partition(".")[0] not in stdlib
        and not any(_within(imp.target, allowed) for allowed in STORAGE_MAY_IMPORT)]
    assert not offending, _report(
        offending, f"{STORAGE} may import only the standard library and itself")


def test_import_cycles_stay_small(modules: dict[str, Path]) -> None:
    cycles = [c for c in strongly_connected(import_graph(modules)) if len(c) > 1]
    largest = len(cycles[0]) if cycles else 1
    listing = "\n".join(f"  {len(c)} modules: {', '.join(c)}" for c in cycles[:3])
    assert largest <= MAX_CYCLE, (
        f"the largest import cycle has {largest} modules (at most {MAX_CYCLE}):\n{listing}")


def layer_of(module: str) -> int | None:
    """The layer of a module of the runtime (``LAYERS``); None outside the runtime.

    ``headwater.exceptions`` is at the bottom, the other public modules of
    ``headwater`` on top; the client, server, CLI and testing stacks are
    not layered.
    """
    if module in ("headwater.exceptions", PRIVATE):  # ``headwater._private`` is empty
        return 0
    if _within(module, PRIVATE):
        for number, names in enumerate(LAYERS):
            if any(_within(module, f"{PRIVATE}.{name}") for name in names):
                return number
        return -1  # unplaced: test_every_runtime_module_has_a_layer names it
    if any(_within(module, f"headwater.{stack}")
           for stack in ("client", "server", "cli", "testing")):
        return None
    return TOP if _within(module, "headwater") else None


def test_every_runtime_module_has_a_layer(modules: dict[str, Path]) -> None:
    unplaced = sorted(name for name in modules if layer_of(name) == -1)
    assert not unplaced, (
        f"modules under {PRIVATE} without a layer (add them to LAYERS in "
        f"tests/test_layers.py): {', '.join(unplaced)}")


def test_the_runtime_imports_only_its_own_layer_or_lower_ones(modules: dict[str, Path]) -> None:
    offending = []
    for imp in all_imports(modules):
        target = imp.target
        while target and target not in modules:
            target = target.rpartition(".")[0]
        importer_layer, target_layer = layer_of(imp.importer), layer_of(target)
        if (importer_layer is not None and target_layer is not None
                and target_layer > importer_layer):
            offending.append(imp)
    assert not offending, _report(
        offending, "a runtime module may import only from its own layer or lower ones "
        "(LAYERS in tests/test_layers.py; type against a protocol of protocols.py or "
        "options.py, pass plain arguments, or let the higher module hand over a callable)")


def test_the_checks_see_every_kind_of_import(tmp_path: Path) -> None:
    """Lazy, TYPE_CHECKING and relative imports all count, resolved to modules."""
    package = tmp_path / "headwater" / "_private" / "pkg"
    package.mkdir(parents=True)
    for init in (tmp_path / "headwater", tmp_path / "headwater" / "_private", package):
        (init / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "from .b import thing\n"
        "if TYPE_CHECKING:\n"
        "    from headwater.server import app\n"
        "def f():\n"
        "    import headwater.server.database\n")
    (package / "b.py").write_text("from .. import pkg\nfrom .a import f\nthing = 1\n")
    found = find_modules(tmp_path)
    graph = import_graph(found)
    targets = {imp.target for imp in imports_of("headwater._private.pkg.a",
                                                 package / "a.py", found)}
    assert targets == {"typing", "headwater._private.pkg.b", "headwater.server",
                       "headwater.server.database"}
    assert graph["headwater._private.pkg.b"] == {"headwater._private.pkg",
                                                 "headwater._private.pkg.a"}
    assert strongly_connected(graph)[0] == ["headwater._private.pkg.a",
                                            "headwater._private.pkg.b"]
