"""Labels in request bodies: a list of strings; one string alone is refused, saying so."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from headwater._private.labels import single_string_error
from headwater.server.schemas.text import IndexedStr

__all__ = ["Labels"]


def _not_a_string(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(single_string_error(value))
    return value


#: A list of labels (each indexed text, not empty); ``"gpu"`` alone is an error
#: that says to write ``["gpu"]``, never one label per character.
Labels = Annotated[list[Annotated[IndexedStr, Field(min_length=1)]],
                   BeforeValidator(_not_a_string)]
