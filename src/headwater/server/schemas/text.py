"""Text the database indexes: bounded, so that an index entry always fits.

A PostgreSQL B-tree entry holds at most about 2.7 kB. Flow names, flow run
names, idempotency keys, task keys and tags are indexed; an API client may
send any text, so without a bound a long one failed its write with a 500.
512 characters are at most 2,048 bytes of UTF-8, whatever the characters.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

__all__ = ["MAX_INDEXED_LENGTH", "IndexedStr"]

#: The most characters of an indexed text field.
MAX_INDEXED_LENGTH = 512

#: A text field that a database index holds.
IndexedStr = Annotated[str, Field(max_length=MAX_INDEXED_LENGTH)]
