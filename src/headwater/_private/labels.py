"""Labels: what a run requires of the worker that runs it, and what a worker offers.

A worker takes a run only if the run's labels are a subset of its own. Labels
are always a list of strings; a single string where a list is expected is an
error that says so (it must never become one label per character).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["as_labels", "single_string_error"]


def single_string_error(value: str, what: str = "labels") -> str:
    """The message for a single string given where a list of labels is expected."""
    return (f"{what} must be a list of strings, not the single string {value!r}: "
            f"write [{value!r}] for one label.")


def as_labels(value: Any, what: str = "labels") -> list[str]:
    """``value`` as a list of labels (None: none), sorted and without duplicates.

    Raises:
        TypeError: ``value`` is a single string, or not an iterable of strings.
    """
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        raise TypeError(single_string_error(str(value), what))
    if not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a list of strings, not {type(value).__name__}.")
    labels = list(value)
    for label in labels:
        if not isinstance(label, str) or not label:
            raise TypeError(f"{what} must be non-empty strings; got {label!r}.")
    return sorted(set(labels))
