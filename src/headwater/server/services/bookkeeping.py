"""How a run's row follows its states: current state, run_count, start/end times.

Shared by ``set_state`` (one state at a time) and the records batch (many
states, possibly out of order or re-sent). The current state is the latest by
timestamp; ``run_count`` counts RUNNING states; ``start_time`` is the first
RUNNING timestamp; ``end_time`` is set while the current state is terminal;
``total_run_time`` adds up time spent in RUNNING states as they end.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from headwater.server.schemas.core import TERMINAL_TYPES

__all__ = ["BOOK_COLUMNS", "Book", "advance", "fold", "utc"]

_UTC = dt.timezone.utc
_TERMINAL = frozenset(s.value for s in TERMINAL_TYPES)

#: The run columns a :class:`Book` reads and writes.
BOOK_COLUMNS = ("state_id", "state_type", "state_name", "state_timestamp", "state_version",
                "run_count", "start_time", "end_time", "total_run_time")


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware datetime (naive means UTC)."""
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value


@dataclass(frozen=True, slots=True)
class Book:
    """The state bookkeeping columns of one run row."""

    state_id: uuid.UUID | None = None
    state_type: str | None = None
    state_name: str | None = None
    state_timestamp: dt.datetime | None = None
    state_version: int = 0
    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Book:
        """Read the bookkeeping columns of a run row."""
        return cls(**{name: row[name] for name in BOOK_COLUMNS})

    def values(self) -> dict[str, Any]:
        """The columns to write back."""
        return {name: getattr(self, name) for name in BOOK_COLUMNS}


def advance(book: Book, state_id: uuid.UUID, type_: str, name: str | None,
            timestamp: dt.datetime) -> Book:
    """Make a state the run's current state."""
    run_count, start_time = book.run_count, book.start_time
    if type_ == "RUNNING":
        run_count += 1
        if start_time is None or timestamp < start_time:
            start_time = timestamp
    total = book.total_run_time
    if book.state_type == "RUNNING" and book.state_timestamp is not None:
        total += max(0.0, (timestamp - book.state_timestamp).total_seconds())
    return Book(state_id, type_, name, timestamp, book.state_version + 1, run_count, start_time,
                timestamp if type_ in _TERMINAL else None, total)


def fold(book: Book, states: Iterable[Mapping[str, Any]]) -> Book:
    """Apply new states (dicts with id, type, name, timestamp) in timestamp order.

    A state older than the current one (it arrived late) joins the history
    and counts for ``run_count``/``start_time``, but does not become current.
    """
    for state in sorted(states, key=lambda s: s["timestamp"]):
        ts = state["timestamp"]
        if book.state_timestamp is None or ts >= book.state_timestamp:
            book = advance(book, state["id"], state["type"], state.get("name"), ts)
        elif state["type"] == "RUNNING":
            start = ts if book.start_time is None else min(book.start_time, ts)
            book = replace(book, run_count=book.run_count + 1, start_time=start)
    return book
