"""Internals of headwater. Nothing here is public API; import from ``headwater``."""
