"""``headwater migrate PATH...``: rewrite Prefect 2 code for headwater, in place.

The rename (``prefect`` -> ``headwater``, ``Prefect`` -> ``Headwater``,
``PREFECT_`` -> ``HEADWATER_``) and the async idioms that change, with a
concrete syntax tree (libcst), so comments and layout survive. What cannot be
rewritten safely is reported with ``file:line`` and what to do.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from headwater.cli._common import fail

__all__ = ["migrate"]


def _python_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.py") if ".venv" not in p.parts
                            and "site-packages" not in p.parts)
        elif path.is_file():
            found.append(path)
        else:
            fail(f"no such file or folder: {path}")
    return found


def migrate(
    paths: Annotated[list[Path], typer.Argument(help="Python files or folders to migrate.")],
    check: Annotated[bool, typer.Option(
        "--check", help="Change nothing; list what would change and exit 1 if anything would.")
    ] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print a unified diff of each change (with --check: change nothing).")
    ] = False,
) -> None:
    """Rewrite Prefect 2 code for headwater in place (see docs/migration.md)."""
    from headwater._private.migrate import format_issues, migrate_source

    changed: list[Path] = []
    issues = 0
    for path in _python_files(paths):
        try:
            source = path.read_text(encoding="utf-8")
            result = migrate_source(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
            typer.secho(f"{path}: not migrated ({type(exc).__name__}: {exc})", err=True,
                        fg=typer.colors.YELLOW)
            issues += 1
            continue
        if result.issues:
            issues += len(result.issues)
            typer.secho(format_issues(result.issues, str(path)), err=True,
                        fg=typer.colors.YELLOW)
        if not result.changed:
            continue
        changed.append(path)
        if diff:
            typer.echo("".join(difflib.unified_diff(
                source.splitlines(keepends=True), result.code.splitlines(keepends=True),
                fromfile=str(path), tofile=str(path))), nl=False)
        if not check:
            path.write_text(result.code, encoding="utf-8")
    verb = "would change" if check else "changed"
    typer.echo(f"{len(changed)} file(s) {verb}; {issues} place(s) to review by hand.")
    for path in changed if check else []:
        typer.echo(f"  {path}")
    if check and changed:
        raise typer.Exit(1)
