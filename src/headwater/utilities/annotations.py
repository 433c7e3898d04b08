"""Argument annotations: ``unmapped``, ``allow_failure``, ``quote``."""

from headwater._private.annotations import BaseAnnotation, allow_failure, quote, unmapped

__all__ = ["BaseAnnotation", "allow_failure", "quote", "unmapped"]
