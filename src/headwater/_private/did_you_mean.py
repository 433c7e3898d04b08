"""The closest valid name to a misspelled one: options, settings, logging.yml keys.

``difflib`` is imported only when a name is wrong, so checking names that
are right costs a set lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "suggestion"]


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name nearest to ``name`` (difflib's ratio 0.6 or more), or None."""
    import difflib

    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def suggestion(name: str, valid: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest valid name, or ``""`` when none is close."""
    near = closest(name, valid)
    return f"; did you mean {near!r}?" if near else ""
