"""How a run's row follows its states: current state, run_count, start/end times.

One rule for every write path: ``set_state`` (one state at a time), the
records batch on PostgreSQL (SQLAlchemy) and on SQLite (``record_statements``,
which the embedded recorder drives too), all through :func:`fold_books`. A book is a tuple of the
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

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

from headwater._private.storage.state_types import TERMINAL_TYPES

__all__ = ["BOOK_COLUMNS", "EMPTY_BOOK", "FINAL_TYPES", "Book", "advance", "advance_book",
           "fold", "fold_book", "fold_books", "utc"]

_UTC = dt.timezone.utc

#: The run columns a book holds, in order.
BOOK_COLUMNS = ("state_id", "state_type", "state_name", "state_timestamp", "state_version",
                "run_count", "start_time", "end_time", "total_run_time")
#: The book of a run without states.
EMPTY_BOOK: tuple[Any, ...] = (None, None, None, None, 0, 0, None, None, 0.0)
#: State types that end a run, as stored.
FINAL_TYPES = frozenset(t.value for t in TERMINAL_TYPES)

K = TypeVar("K")

#: ``seconds(later, earlier)``: how far apart two times of a book are.
Seconds = Callable[[Any, Any], float]


def _datetime_seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


def fold_books(books: dict[K, tuple[Any, ...]],
               states: Iterable[tuple[K, Any, str, str | None, Any]],
               seconds: Seconds = _datetime_seconds, *,
               make_current: bool = False) -> dict[K, tuple[Any, ...]]:
    """Apply recorded states to the books of their runs, in time order: the whole rule.

    Every write path comes here, directly or through :func:`fold_book` and
    :func:`advance_book`. The SQLite write path hands over a whole batch at
    once (states of many runs; the embedded recorder's batches hold
    thousands), so the rule is one loop with local names only, not a call
    per state: it runs while the flow's threads want the GIL.

    Args:
        books: The books so far by run key, updated in place; a run without
            one starts from :data:`EMPTY_BOOK`.
        states: ``(run key, state id, type, name, time)``; applied in time
            order (a stable sort: states of equal times keep their order).
        seconds: ``seconds(later, earlier)`` for two times of a book.
        make_current: Make each state current whatever its time and the
            current state (``set_state``: see :func:`advance_book`).

    Returns:
        ``books``.
    """
    get = books.get
    final = FINAL_TYPES
    for run, state_id, type_, name, ts in sorted(states, key=itemgetter(4)):
        sid, stype, sname, sts, version, run_count, start, end, total = get(run, EMPTY_BOOK)
        if type_ == "RUNNING":
            run_count += 1
            if start is None or ts < start:
                start = ts
        if not make_current and sts is not None and (
                ts < sts or (stype == "CANCELLING" and type_ not in final)):
            # History only (it arrived late, or a cancel request stays
            # current): it counts for run_count and start_time, nothing else.
            books[run] = (sid, stype, sname, sts, version, run_count, start, end, total)
            continue
        if stype == "RUNNING" and sts is not None:
            total += max(0.0, seconds(ts, sts))
        books[run] = (state_id, type_, name, ts, version + 1, run_count, start,
                      ts if type_ in final else None, total)
    return books


def advance_book(book: tuple[Any, ...], state_id: Any, type_: str, name: str | None, ts: Any,
                 seconds: Seconds = _datetime_seconds) -> tuple[Any, ...]:
    """Make a state the run's current state (``set_state`` does so whatever its time)."""
    return fold_books({0: book}, [(0, state_id, type_, name, ts)], seconds,
                      make_current=True)[0]


def fold_book(book: tuple[Any, ...], states: Iterable[tuple[Any, str, str | None, Any]],
              seconds: Seconds = _datetime_seconds) -> tuple[Any, ...]:
    """Apply recorded states ``(id, type, name, time)`` to one run's book, in time order."""
    return fold_books({0: book}, [(0, *state) for state in states], seconds)[0]


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
