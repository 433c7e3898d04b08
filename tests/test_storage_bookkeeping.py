"""The storage core's bookkeeping rule: one fold for a batch of many runs, or for one run."""

from __future__ import annotations

import random

from headwater._private.storage.bookkeeping import (
    EMPTY_BOOK,
    advance_book,
    fold_book,
    fold_books,
)

_TYPES = ("PENDING", "RUNNING", "PAUSED", "CANCELLING", "CANCELLED", "COMPLETED", "FAILED")


def _seconds(later: int, earlier: int) -> float:
    return float(later - earlier)


def test_a_batch_of_runs_folds_as_each_run_alone() -> None:
    # States of several runs interleaved, times out of order and tied: each
    # run's book is what folding its own states gives.
    rng = random.Random(13)
    for _ in range(300):
        states = [(rng.choice("abc"), i, rng.choice(_TYPES), None, rng.randrange(6))
                  for i in range(rng.randrange(1, 12))]
        stored = {"a": fold_book(EMPTY_BOOK, [(-1, "RUNNING", None, 2)], _seconds)}
        books = fold_books(dict(stored), states, _seconds)
        for run in {s[0] for s in states}:
            mine = [s[1:] for s in states if s[0] == run]
            assert books[run] == fold_book(stored.get(run, EMPTY_BOOK), mine, _seconds)


def test_a_cancel_request_stays_current_until_a_final_state() -> None:
    book = fold_book(EMPTY_BOOK, [(1, "RUNNING", None, 1), (2, "CANCELLING", None, 2),
                                  (3, "RUNNING", None, 3)], _seconds)
    assert book[:2] == (2, "CANCELLING") and book[5] == 2  # the retry ran: counted
    book = fold_book(book, [(4, "CANCELLED", None, 4)], _seconds)
    assert book[1] == "CANCELLED" and book[7] == 4


def test_advance_makes_an_older_state_current() -> None:
    book = fold_book(EMPTY_BOOK, [(1, "RUNNING", None, 5)], _seconds)
    assert fold_book(book, [(2, "PENDING", None, 1)], _seconds)[0] == 1  # history only
    advanced = advance_book(book, 2, "PENDING", "Pending", 1, _seconds)
    assert advanced[:5] == (2, "PENDING", "Pending", 1, 2)
