"""The closest valid name to a misspelled one: options, settings, logging.yml keys.

``difflib`` is imported only when a name is wrong, so checking names that
are right costs a set lookup.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

__all__ = ["check_keywords", "closest", "keywords_checked", "suggestion"]

F = TypeVar("F", bound=Callable[..., Any])


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name nearest to ``name`` (difflib's ratio 0.6 or more), or None."""
    import difflib

    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def suggestion(name: str, valid: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest valid name, or ``""`` when none is close."""
    near = closest(name, valid)
    return f"; did you mean {near!r}?" if near else ""


def check_keywords(label: str, given: Iterable[str], allowed: frozenset[str]) -> None:
    """Raise Python's TypeError for the first keyword not in ``allowed``, plus "did you mean".

    Args:
        label: The callable as the message names it, e.g. ``"task()"``.
        given: The keywords passed.
        allowed: The keywords it takes.
    """
    for key in given:
        if key not in allowed:
            raise TypeError(f"{label} got an unexpected keyword argument {key!r}"
                            f"{suggestion(key, allowed)}")


def keywords_checked(func: F) -> F:
    """Wrap ``func`` so a misspelled keyword is Python's TypeError plus "did you mean".

    For methods with many keyword-only options (``Flow.with_options``): a
    typo such as ``retires=`` names the option meant, as the decorators do.
    The check is a set lookup per keyword; the signature is read once.
    """
    names = frozenset(inspect.signature(func).parameters) - {"self"}
    label = f"{func.__qualname__}()"

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_keywords(label, kwargs, names)
        return func(*args, **kwargs)

    return cast(F, checked)
