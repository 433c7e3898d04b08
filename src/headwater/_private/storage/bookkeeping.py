"""How a run's row follows its states: current state, run_count, start/end times.

One rule for every write path: ``set_state`` (one state at a time), the
records batch on PostgreSQL (SQLAlchemy) and on SQLite (``record_statements``,
which the embedded recorder drives too). A book is a tuple of the
``BOOK_COLUMNS``; times may be datetimes or SQLite's stored text (fixed
width, so text order is time order), with ``seconds`` saying how far apart
two of them are.

- The current state is the latest by timestamp. A state older than the
  current one (it arrived late) joins the history and counts for
  ``run_count`` and ``start_time``, but does not become current.
- A CANCELLING state stays current until a final state comes. CANCELLING is
  only ever asked for from outside the run (``headwater flow-run cancel``,
  ``cancel_flow_run``); the run's own process may record a pause, a retry
  or a RUNNING state before it notices the request, and that must not hide
  the request from it (it would then never be cancelled).
  (``set_state`` is not a recorded fact but a request, and its orchestration
  rules decide; :func:`advance_book` makes its state current.)
- ``run_count`` counts RUNNING states; ``start_time`` is the first RUNNING
  timestamp; ``end_time`` is set while the current state is final;
  ``total_run_time`` adds up the time spent in RUNNING states as they end.

Standard library only: embedded processes import it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from headwater._private.storage.state_types import TERMINAL_TYPES

__all__ = ["BOOK_COLUMNS", "EMPTY_BOOK", "FINAL_TYPES", "Book", "advance", "advance_book",
           "fold", "fold_book", "utc"]

_UTC = dt.timezone.utc

#: The run columns a book holds, in order.
BOOK_COLUMNS = ("state_id", "state_type", "state_name", "state_timestamp", "state_version",
                "run_count", "start_time", "end_time", "total_run_time")
#: The book of a run without states.
EMPTY_BOOK: tuple[Any, ...] = (None, None, None, None, 0, 0, None, None, 0.0)
#: State types that end a run, as stored.
FINAL_TYPES = frozenset(t.value for t in TERMINAL_TYPES)

#: ``seconds(later, earlier)``: how far apart two times of a book are.
Seconds = Callable[[Any, Any], float]


def _datetime_seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


def advance_book(book: tuple[Any, ...], state_id: Any, type_: str, name: str | None, ts: Any,
                 seconds: Seconds = _datetime_seconds) -> tuple[Any, ...]:
    """Make a state the run's current state (``set_state`` does so whatever its time)."""
    _sid, stype, _sname, sts, version, run_count, start, _end, total = book
    if type_ == "RUNNING":
        run_count += 1
        if start is None or ts < start:
            start = ts
    if stype == "RUNNING" and sts is not None:
        total += max(0.0, seconds(ts, sts))
    return (state_id, type_, name, ts, version + 1, run_count, start,
            ts if type_ in FINAL_TYPES else None, total)


def fold_book(book: tuple[Any, ...], states: Iterable[tuple[Any, str, str | None, Any]],
              seconds: Seconds = _datetime_seconds) -> tuple[Any, ...]:
    """Apply recorded states ``(id, type, name, time)`` to a book, in time order."""
    for state_id, type_, name, ts in sorted(states, key=itemgetter(3)):
        current_time = book[3]
        if current_time is None or (ts >= current_time and (
                book[1] != "CANCELLING" or type_ in FINAL_TYPES)):
            book = advance_book(book, state_id, type_, name, ts, seconds)
        elif type_ == "RUNNING":  # history only, but it ran
            start = book[6]
            book = (*book[:5], book[5] + 1, ts if start is None or ts < start else start,
                    *book[7:])
    return book


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware datetime (naive means UTC)."""
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value


@dataclass(frozen=True, slots=True)
class Book:
    """The state bookkeeping columns of one run row, with datetimes."""

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

    def as_tuple(self) -> tuple[Any, ...]:
        """The book as :func:`advance_book` and :func:`fold_book` take it."""
        return tuple(getattr(self, name) for name in BOOK_COLUMNS)

    def values(self) -> dict[str, Any]:
        """The columns to write back."""
        return dict(zip(BOOK_COLUMNS, self.as_tuple(), strict=True))


def advance(book: Book, state_id: uuid.UUID, type_: str, name: str | None,
            timestamp: dt.datetime) -> Book:
    """Make a state the run's current state (:func:`advance_book` on a :class:`Book`)."""
    return Book(*advance_book(book.as_tuple(), state_id, type_, name, timestamp))


def fold(book: Book, states: Iterable[Mapping[str, Any]]) -> Book:
    """Apply recorded states (dicts with id, type, name, timestamp): :func:`fold_book`."""
    return Book(*fold_book(book.as_tuple(), [(s["id"], s["type"], s.get("name"),
                                               s["timestamp"]) for s in states]))
