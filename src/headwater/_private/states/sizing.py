"""A cheap estimate of how much memory a result keeps alive.

A flow run keeps its children's results up to a byte budget
(``HEADWATER_FLOW_RUN_RESULT_BUDGET``), so it must weigh every result as its
run finishes. Pickling would be exact but costs as much as the task itself;
``sys.getsizeof`` alone is exact for flat values (bytes, str, numbers,
NumPy arrays that own their buffer, pandas objects) but counts only the
pointers of a container. So containers and plain objects are weighed one
level down, on a few sampled items scaled by their count: a constant cost per
result, right within a small factor for the usual shapes (a list of rows, a
dict of columns, a dataclass of arrays).
"""

from __future__ import annotations

from itertools import islice
from sys import getsizeof
from typing import Any

from headwater._private.states.model import State

_SAMPLE = 8
"""Items weighed in a container; the rest are assumed to weigh the same on average."""

_FLAT = (int, float, complex, bool, str, bytes, bytearray, memoryview, type(None))


def approx_size(value: Any, depth: int = 2) -> int:
    """Return an estimate of the bytes ``value`` keeps alive, in constant time.

    Args:
        value: Any object; nothing is called on it but ``__sizeof__``,
            ``len`` and iteration over at most a few items of a built-in
            container or attribute dictionary.
        depth: How many levels of containers to look into.
    """
    if isinstance(value, _FLAT):
        return getsizeof(value)
    try:
        size = getsizeof(value)
    except Exception:  # a __sizeof__ that fails: count the object header only
        return 64
    if depth <= 0:
        return size
    if isinstance(value, dict):  # keys are usually short strings: values dominate
        return size + _sampled(value.values(), len(value), depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return size + _sampled(value, len(value), depth)
    if isinstance(value, State):  # a subflow's state: its result, or its children's states
        return size + approx_size(value.data, depth)
    try:
        attrs = object.__getattribute__(value, "__dict__")
    except AttributeError:
        return size
    if isinstance(attrs, dict):
        return size + getsizeof(attrs) + _sampled(attrs.values(), len(attrs), depth)
    return size


def _sampled(items: Any, count: int, depth: int) -> int:
    """The weight of ``count`` items estimated from the first few of them."""
    if not count:
        return 0
    weighed = [approx_size(item, depth - 1) for item in islice(items, _SAMPLE)]
    if not weighed:
        return 0
    return sum(weighed) * count // len(weighed)
