"""Help pages without ``<bool>`` after flags.

typer (0.2x) prints every option's type in its rich help, so a flag reads
``--json <bool>`` as if it took a value, and typer has no setting to hide
it. Flags take no value: their type cell is left empty here, once, for
every command of the app (those other modules add included). Options with
a value keep their type (``--limit <int>``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["hide_flag_types"]


def hide_flag_types() -> None:
    """Leave the type cell of boolean flags empty in typer's rich help (idempotent)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "hides_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and not self.count:
            return None
        return shown(self, ctx)

    display_type_rich.hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
