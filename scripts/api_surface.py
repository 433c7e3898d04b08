"""Compare headwater's public names with Prefect 2's.

Usage:
    python scripts/api_surface.py             # the report, run with headwater
    python scripts/api_surface.py --snapshot  # run with Prefect 2's python

``--snapshot`` imports Prefect 2 and writes ``tests/api_surface/prefect2_names.json``:
for each module users import from (``MODULES``), its public names. A module's
public names are its ``__all__`` when it defines one; otherwise the classes and
functions defined in it (or in its own subpackages), its submodules, and the
few deliberate re-exports in ``EXTRA_NAMES``. Imported stdlib and third-party
names, type variables and plain module-level values are left out.

The report renames each module and name (``prefect`` -> ``headwater``,
``Prefect`` -> ``Headwater``) and checks that it exists at the same path in
headwater. A name that does not is *documented* when a row of the "Names not
provided" table in ``docs/migration.md`` matches its Prefect 2 path (a row's
first cell holds one or more patterns in backticks, ``fnmatch`` style, e.g.
``prefect.blocks.*``); otherwise it is *missing*. The report prints one line per
module and exits 1 when any name is missing.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import inspect
import json
import re
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "api_surface" / "prefect2_names.json"
MIGRATION = REPO / "docs" / "migration.md"
NOT_PROVIDED_HEADING = "## Names not provided"

MODULES = [
    "prefect",
    "prefect.states",
    "prefect.futures",
    "prefect.task_runners",
    "prefect.context",
    "prefect.runtime",
    "prefect.runtime.flow_run",
    "prefect.runtime.task_run",
    "prefect.runtime.deployment",
    "prefect.exceptions",
    "prefect.logging",
    "prefect.results",
    "prefect.serializers",
    "prefect.filesystems",
    "prefect.utilities.annotations",
    "prefect.testing.utilities",
    "prefect.client.orchestration",
    "prefect.client.schemas.objects",
    "prefect.client.schemas.filters",
    "prefect.client.schemas.actions",
    "prefect.concurrency.asyncio",
    "prefect.concurrency.sync",
    "prefect.input",
    "prefect.artifacts",
    "prefect.variables",
    "prefect.blocks.core",
    "prefect.blocks.system",
    "prefect.deployments",
    "prefect.flows",
    "prefect.tasks",
    "prefect.cache_policies",
]

# Names users import from a module that does not define them (and has no
# ``__all__``): the module re-exports them on purpose, or documents them there.
EXTRA_NAMES = {
    "prefect": ["__version__", "runtime"],
    "prefect.states": ["State", "StateType"],
}


def public_names(module: types.ModuleType) -> list[str]:
    """Return the public names of ``module`` by the rules in this file's docstring."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        names = set(declared)
    else:
        names = {name for name, value in vars(module).items()
                 if not name.startswith("_") and _defined_in(value, module.__name__)}
    names.update(EXTRA_NAMES.get(module.__name__, []))
    return sorted(names)


def _defined_in(value: object, module_name: str) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith(module_name + ".")
    if not (inspect.isclass(value) or inspect.isroutine(value)):
        return False  # type variables, loggers, settings, constants
    owner = getattr(value, "__module__", None) or ""
    return owner == module_name or owner.startswith(module_name + ".")


def snapshot() -> dict[str, list[str]]:
    """Import each of ``MODULES`` that exists and list its public names."""
    surface: dict[str, list[str]] = {}
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue  # e.g. prefect.cache_policies, new in Prefect 3
        surface[module_name] = public_names(module)
    return surface


def rename(prefect_path: str) -> str:
    """Spell a Prefect 2 module or name the headwater way."""
    return prefect_path.replace("prefect", "headwater").replace("Prefect", "Headwater")


def not_provided_patterns(markdown: str) -> list[str]:
    """Return the patterns in the first cells of the "Names not provided" table."""
    _, found, section = markdown.partition(NOT_PROVIDED_HEADING + "\n")
    if not found:
        return []
    section = section.split("\n## ", 1)[0]
    patterns: list[str] = []
    for line in section.splitlines():
        cells = line.strip().strip("|").split("|")
        if line.startswith("|") and len(cells) >= 2 and cells[1].strip():
            patterns.extend(re.findall(r"`([^`]+)`", cells[0]))
    return patterns


@dataclass
class ModuleReport:
    """How one Prefect 2 module's names fare in headwater."""

    module: str
    provided: list[str] = field(default_factory=list)
    documented: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def check_module(module_name: str, names: Iterable[str], patterns: list[str]) -> ModuleReport:
    """Sort each of ``names`` of ``module_name`` into provided, documented or missing."""
    report = ModuleReport(module_name)
    try:
        module: types.ModuleType | None = importlib.import_module(rename(module_name))
    except ModuleNotFoundError:
        module = None
    for name in names:
        path = f"{module_name}.{name}"
        if module is not None and hasattr(module, rename(name)):
            report.provided.append(path)
        elif any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns):
            report.documented.append(path)
        else:
            report.missing.append(path)
    return report


def build_report(surface: dict[str, list[str]], markdown: str) -> list[ModuleReport]:
    """Check every module of a snapshot against headwater and the migration guide."""
    patterns = not_provided_patterns(markdown)
    return [check_module(module, names, patterns) for module, names in surface.items()]


def format_table(reports: list[ModuleReport]) -> str:
    """Render the per-module counts, a total line, and the missing names."""
    rows = [(r.module, len(r.provided), len(r.missing), len(r.documented)) for r in reports]
    rows.append(("total", sum(r[1] for r in rows), sum(r[2] for r in rows),
                 sum(r[3] for r in rows)))
    width = max(len(row[0]) for row in rows)
    lines = [f"{'module':<{width}}  provided  missing  documented"]
    lines += [f"{m:<{width}}  {p:>8}  {x:>7}  {d:>10}" for m, p, x, d in rows]
    missing = [path for r in reports for path in r.missing]
    if missing:
        lines += ["", "Missing without a reason in docs/migration.md (Names not provided):"]
        lines += [f"  {path}" for path in missing]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--snapshot", action="store_true",
                        help="write the snapshot (run with Prefect 2's python)")
    args = parser.parse_args(argv)
    if args.snapshot:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(snapshot(), indent=1) + "\n")
        print(f"wrote {SNAPSHOT.relative_to(REPO)}")
        return 0
    surface = json.loads(SNAPSHOT.read_text())
    reports = build_report(surface, MIGRATION.read_text())
    print(format_table(reports))
    return 1 if any(r.missing for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
