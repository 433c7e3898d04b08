"""Time zones for schedules: validating names, and wall-clock time to instants.

One rule turns a wall-clock time into an instant, for every kind of schedule:

- a time that does not exist (inside a spring-forward gap) moves forward by
  the length of the gap (02:30 on the night New York skips 02:00-03:00 is
  03:30 EDT);
- a time that exists twice (inside a fall-back overlap) is its first
  occurrence (01:30 on the night New York repeats 01:00-02:00 is 01:30 EDT).

Both follow from reading the wall time with ``fold=0`` (PEP 495) and
normalising through UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc


@lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    """Return the tzinfo of an IANA name (None: UTC).

    Raises:
        ValueError: The name is not a time zone this machine knows.
    """
    if name is None or name == "UTC":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfo raises KeyError (not found), ValueError (a path-like key)
        # or IsADirectoryError ("America"): one message for all of them.
        raise ValueError(
            f'Invalid timezone: "{name}" (specify an IANA time zone name, for example '
            '"America/New_York" or "UTC")'
        ) from None


def validate_timezone(name: str | None) -> str | None:
    """Return ``name`` unchanged if it names a time zone (None passes).

    Raises:
        ValueError: Unknown name, with an example of a valid one.
    """
    if name is not None:
        zone(name)
    return name


def zone_name(value: datetime) -> str | None:
    """Return the IANA name of an aware datetime's zone, or None if it has none.

    Fixed offsets (``+02:00``, what ISO strings parse to) have no name.
    ``datetime.timezone.utc`` is ``"UTC"``. Zones of other libraries (pytz,
    pendulum, dateutil) are recognised by their name attributes.
    """
    tz = value.tzinfo
    if tz is None:
        return None
    if tz is UTC:
        return "UTC"
    for attribute in ("key", "zone", "name"):
        candidate = getattr(tz, attribute, None)
        if isinstance(candidate, str) and candidate:
            try:
                zone(candidate)
            except ValueError:
                continue
            return candidate
    return None


def localize(wall: datetime, tz: tzinfo) -> datetime:
    """Return the instant of the naive wall-clock time ``wall`` in ``tz`` (see module doc)."""
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def as_aware(value: datetime, tz: tzinfo) -> datetime:
    """Return ``value`` as an aware datetime: a naive one is wall-clock time in ``tz``."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return localize(value.replace(tzinfo=None), tz)
    return value
