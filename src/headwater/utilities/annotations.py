"""Argument annotations: ``unmapped``, ``allow_failure``, ``quote``; the ``NotSet`` sentinel."""

from headwater._private.annotations import (
    BaseAnnotation,
    NotSet,
    allow_failure,
    quote,
    unmapped,
)

__all__ = ["BaseAnnotation", "NotSet", "allow_failure", "quote", "unmapped"]
