"""The API's datetimes: every time a request carries, in UTC.

A time with an offset is converted to UTC and a naive one is taken as UTC
(as the databases have always stored it), so the services only ever see
aware UTC datetimes. A time whose UTC value falls outside Python's datetime
range (``0001-01-01T00:00:00+14:00`` is in year 0 in UTC) could not be
converted, stored or compared: validation rejects it with a 422 naming the
field, instead of an ``OverflowError`` deep inside a write (500).
PostgreSQL's ``timestamptz`` and SQLite's text columns hold the whole range.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo
from pydantic_core import PydanticCustomError

__all__ = ["UTC", "UTC_RANGE", "UtcDatetime", "to_utc"]

UTC = dt.timezone.utc
#: The times the API accepts (Python's whole range), in UTC.
UTC_RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"


def to_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive means UTC): an aware datetime whose offset is zero.

    Raises:
        OverflowError: ``value`` is before year 1 or after year 9999 in UTC.
    """
    zone = value.tzinfo
    offset = zone.utcoffset(value) if zone is not None else None
    if offset is None:
        return value.replace(tzinfo=UTC)
    # Zero already (nearly every time sent): kept, whatever its tzinfo object
    # (pydantic's own for "Z"), which costs a third of converting it.
    return value if not offset else value.astimezone(UTC)


def _validate(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    try:
        return to_utc(value)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_utc_range",
            "{field}: {value} is out of range once converted to UTC; accepted: {range}",
            {"field": info.field_name or "time", "value": value.isoformat(),
             "range": UTC_RANGE},
        ) from None


#: A datetime field of a request body: validated to an aware UTC datetime.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_validate)]
