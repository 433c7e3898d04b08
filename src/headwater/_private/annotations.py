"""Wrappers that change how a task treats one argument: unmapped, allow_failure, quote."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    """A marker around a value; ``unwrap()`` gives the value back."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        """Return the wrapped value."""
        return self.value

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.value == other.value

    def __hash__(self) -> int:
        return hash((type(self), id(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(BaseAnnotation[T]):
    """Pass the same value to every mapped task run instead of iterating over it.

    Example:
        ``add.map([1, 2, 3], unmapped(10))`` runs ``add(1, 10)``, ``add(2, 10)``...
    """

    __slots__ = ()

    def __getitem__(self, _: object) -> T:
        return self.value


class allow_failure(BaseAnnotation[T]):
    """Run the downstream task even if this upstream failed.

    The downstream receives the upstream's exception in place of its result.
    """

    __slots__ = ()


class quote(BaseAnnotation[T]):
    """Pass the value as is: headwater does not look inside it for futures.

    Use it for large collections that hold no futures, to skip the traversal.
    """

    __slots__ = ()


NotSet: Any = type("NotSetType", (), {"__repr__": lambda self: "NotSet", "__slots__": ()})()
"""Sentinel for "argument not passed" in ``with_options`` (``None`` is a real value)."""
