"""Helpers shared by the CLI commands."""

from __future__ import annotations

from typing import Any, NoReturn

import typer

from headwater._private.settings.fields import setting_fields


def fail(message: str) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with status 1."""
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def shown(key: str, value: Any) -> str:
    """Return a value as ``config view`` prints it; secrets are masked."""
    field = setting_fields().get(key)
    if field is not None and field.secret:
        return "'********'"
    return repr(str(value)) if not isinstance(value, str) else repr(value)
