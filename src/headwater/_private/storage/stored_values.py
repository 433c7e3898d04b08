"""Values as SQLite stores them: ids as 32 hex digits, times as naive UTC text, JSON as text.

The same values SQLAlchemy writes for ``server/database/tables.py``'s types,
so rows written by the storage core and by the API's other routes read back
alike. Shared by the records write path (``prepared``,
``record_statements``), the embedded recorder (``recording/prepare.py``)
and the lease statements (``lease_sqlite``).

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["NULL", "hex_id", "hex_ids", "json_texts", "seconds_between", "stored_time",
           "stored_times"]

_UTC = dt.timezone.utc

#: Bound for SQL NULL where binding ``None`` would be slow: Python's sqlite3
#: binds exact ``int``, ``float`` and ``str`` directly and sends anything else
#: (``None`` included) through its adapter lookup first. Nullable text
#: columns are read through ``nullif(column, 0)``, and no text value is ever
#: the integer 0 (see ``record_statements``).
NULL = 0


def hex_ids(ids: Iterable[str]) -> list[str]:
    """Canonical UUID texts as SQLite stores them (32 hex digits), a column at once."""
    text = "\n".join(ids)
    return text.replace("-", "").split("\n") if text else []


def hex_id(value: str | None) -> str | None:
    """A UUID text as SQLite stores it (32 hex digits); None stays None."""
    return value.replace("-", "") if value is not None else None


def stored_time(value: str | dt.datetime) -> str:
    """A time as SQLite stores it: naive UTC text, fixed width (text order is time order)."""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    when = when.replace(tzinfo=_UTC) if when.tzinfo is None else when.astimezone(_UTC)
    return when.replace(tzinfo=None).isoformat(" ", "microseconds")


_D = "[0-9]"
_UTC_ISO = f"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}T{_D}{{2}}:{_D}{{2}}:{_D}{{2}}\\.{_D}{{6}}\\+00:00"
_UTC_ISO_LINES = re.compile(f"(?:{_UTC_ISO}\n)*{_UTC_ISO}")


def stored_times(texts: list[str | None], default: str) -> list[str]:
    """:func:`stored_time` for a column (``default`` for None).

    The common case, every value UTC with microseconds (what ``isoformat``
    gives for the engine's times), is converted by three string operations
    over the whole column instead of a parse per value.
    """
    if texts and None not in texts:
        joined = "\n".join(texts)  # type: ignore[arg-type]
        if len(joined) == 33 * len(texts) - 1 and _UTC_ISO_LINES.fullmatch(joined):
            return joined.replace("T", " ").replace("+00:00", "").split("\n")
    return [stored_time(v) if v is not None else default for v in texts]


def json_texts(values: Iterable[Any], empty: str | None) -> list[Any]:
    """JSON text per value: ``empty`` for None (and for an empty value when given)."""
    dumps = json.dumps
    if empty is None:
        return [dumps(v) if v is not None else None for v in values]
    return [dumps(v) if v else empty for v in values]


def seconds_between(later: str, earlier: str) -> float:
    """Seconds from ``earlier`` to ``later`` (stored times)."""
    return (dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)).total_seconds()
