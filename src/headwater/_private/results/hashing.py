"""Stable hashing of task inputs: the same value gives the same digest in any process.

Each value is fed into a SHA-256 digest through a per-type registry, with a
type tag and a length before each piece so ``("ab", "c")`` and ``("a", "bc")``
differ. Primitives, containers, dataclasses, enums, paths, dates, UUIDs and
bytes are handled here; pydantic models, numpy arrays and pandas objects are
recognised by their class without importing those libraries; plain objects
hash by class and attributes. Only then is cloudpickle tried, and a value it
cannot pickle raises `UnhashableInputError`. Sets and dict keys are ordered by
their own digests, never by iteration order, which changes with
``PYTHONHASHSEED``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import hashlib
import importlib
import pathlib
import uuid
from collections.abc import Callable
from typing import Any

from headwater.exceptions import UnhashableInputError

Hasher = Callable[[Any], Any]
"""A user hasher: returns bytes, a str, or any value the registry can hash."""

_USER: dict[type, Hasher] = {}
_MAX_DEPTH = 200


def register_hasher(cls: type, hasher: Hasher) -> None:
    """Teach the key hashing how to hash instances of ``cls`` (and its subclasses).

    Args:
        cls: The type to handle.
        hasher: Called with the value; returns bytes, a string, or any value
            headwater can already hash (a tuple of fields, say).
    """
    _USER[cls] = hasher


def stable_hash(*values: Any) -> str:
    """Return the hex SHA-256 digest of ``values``, stable across processes and machines.

    Raises:
        UnhashableInputError: A value has no stable representation.
    """
    digest = hashlib.sha256()
    for value in values:
        _feed(digest, value, set(), 0)
    return digest.hexdigest()


def _put(digest: Any, tag: bytes, payload: bytes) -> None:
    digest.update(tag)
    digest.update(len(payload).to_bytes(8, "little"))
    digest.update(payload)


def _sub(value: Any, seen: set[int], depth: int) -> bytes:
    digest = hashlib.sha256()
    _feed(digest, value, seen, depth)
    return digest.digest()


def _feed(digest: Any, value: Any, seen: set[int], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise UnhashableInputError(f"it nests more than {_MAX_DEPTH} levels deep")
    cls = type(value)
    simple = _SIMPLE.get(cls)
    if simple is not None:
        _put(digest, simple[0], simple[1](value))
        return
    marker = id(value)
    if marker in seen:
        raise UnhashableInputError("it contains a reference to itself")
    seen.add(marker)
    try:
        _feed_complex(digest, value, cls, seen, depth + 1)
    finally:
        seen.discard(marker)


def _feed_complex(digest: Any, value: Any, cls: type, seen: set[int], depth: int) -> None:
    for base in cls.__mro__ if _USER else ():
        user = _USER.get(base)
        if user is not None:
            out = user(value)
            if isinstance(out, (bytes, str)):
                _put(digest, b"U", out if isinstance(out, bytes) else out.encode())
            else:
                _put(digest, b"U", _qualname(cls).encode())
                _feed(digest, out, seen, depth)
            return
    if cls in (list, tuple) or isinstance(value, (list, tuple)):
        _put(digest, b"L" if isinstance(value, list) else b"T", str(len(value)).encode())
        for item in value:
            _feed(digest, item, seen, depth)
        return
    if isinstance(value, dict):
        items = sorted((_sub(k, seen, depth), _sub(v, seen, depth)) for k, v in value.items())
        _put(digest, b"D", str(len(items)).encode())
        for k, v in items:
            digest.update(k)
            digest.update(v)
        return
    if isinstance(value, (set, frozenset)):
        parts = sorted(_sub(item, seen, depth) for item in value)
        _put(digest, b"S", str(len(parts)).encode())
        for part in parts:
            digest.update(part)
        return
    if _future_or_state(value):
        # A future or State stands for its result: hash that, not the wrapper.
        _feed(digest, value.result(), seen, depth)
        return
    for check, hasher in _BY_KIND:
        if check(value):
            tag, payload = hasher(value)
            _put(digest, tag, _qualname(cls).encode())
            _feed(digest, payload, seen, depth)
            return
    _feed_object(digest, value, cls, seen, depth)


def _feed_object(digest: Any, value: Any, cls: type, seen: set[int], depth: int) -> None:
    state = _plain_state(value, cls)
    if state is not None:
        _put(digest, b"O", _qualname(cls).encode())
        _feed(digest, state, seen, depth)
        return
    _put(digest, b"P", _pickled(value))


def _plain_state(value: Any, cls: type) -> dict[str, Any] | None:
    """Return a plain object's attributes, or None when it is not a plain object."""
    if callable(value) or cls.__module__ == "builtins" or "<locals>" in cls.__qualname__:
        return None
    reduce_ex: Any = cls.__reduce_ex__
    if reduce_ex is not object.__reduce_ex__:
        return None  # the class says how to pickle itself; trust that instead
    slotted = [k for k in cls.__mro__ if "__slots__" in vars(k)]
    if not hasattr(value, "__dict__") and not slotted:
        return None  # a C type: its state is not in attributes
    attrs = dict(getattr(value, "__dict__", {}))
    for klass in slotted:
        slots = vars(klass)["__slots__"]
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot not in ("__dict__", "__weakref__") and hasattr(value, slot):
                attrs[slot] = getattr(value, slot)
    return attrs


def _pickled(value: Any) -> bytes:
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps(value, protocol=5))
    except Exception as exc:
        raise UnhashableInputError(
            f"a {type(value).__name__} has no stable representation and cannot be pickled "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _float(value: float) -> bytes:
    return repr(value).encode()


def _datetime(value: _dt.datetime) -> bytes:
    return value.isoformat().encode()


_SIMPLE: dict[type, tuple[bytes, Callable[[Any], bytes]]] = {
    type(None): (b"N", lambda v: b""),
    bool: (b"B", lambda v: b"1" if v else b"0"),
    int: (b"I", lambda v: str(v).encode()),
    float: (b"F", _float),
    complex: (b"C", lambda v: repr(v).encode()),
    str: (b"s", lambda v: v.encode("utf-8", "surrogatepass")),
    bytes: (b"b", lambda v: v),
    bytearray: (b"b", bytes),
    memoryview: (b"b", lambda v: v.tobytes()),
    _dt.datetime: (b"t", _datetime),
    _dt.date: (b"d", lambda v: v.isoformat().encode()),
    _dt.time: (b"h", lambda v: v.isoformat().encode()),
    _dt.timedelta: (b"e", lambda v: f"{v.days},{v.seconds},{v.microseconds}".encode()),
    uuid.UUID: (b"u", lambda v: v.bytes),
    decimal.Decimal: (b"m", lambda v: str(v).encode()),
    range: (b"r", lambda v: f"{v.start},{v.stop},{v.step}".encode()),
}


# ---------------------------------------------------------------------- kinds
def _is_model(value: Any) -> bool:
    return any(c.__name__ == "BaseModel" and c.__module__.startswith("pydantic")
               for c in type(value).__mro__)


def _model(value: Any) -> tuple[bytes, Any]:
    return b"M", value.model_dump(mode="python")


def _is_dataclass(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _dataclass(value: Any) -> tuple[bytes, Any]:
    return b"A", {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def _enum(value: Any) -> tuple[bytes, Any]:
    return b"E", value.value


def _path(value: Any) -> tuple[bytes, Any]:
    # as_posix() so a path hashes the same on every OS that spells it alike.
    return b"p", value.as_posix()


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def _numpy(value: Any) -> tuple[bytes, Any]:
    np = importlib.import_module("numpy")
    array = np.asarray(value)
    if array.dtype.hasobject:
        return b"Z", (array.shape, array.tolist())
    return b"Z", (array.dtype.str, array.shape, np.ascontiguousarray(array).tobytes())


def _is_pandas(value: Any) -> bool:
    cls = type(value)
    return cls.__module__.startswith("pandas.core.") and (
        cls.__name__ in ("DataFrame", "Series") or cls.__name__.endswith("Index"))


def _pandas(value: Any) -> tuple[bytes, Any]:
    pd = importlib.import_module("pandas")
    hashed = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
    columns = list(map(str, getattr(value, "columns", ())))
    dtypes = [str(d) for d in getattr(value, "dtypes", [getattr(value, "dtype", "")])]
    name = getattr(value, "name", None)
    return b"X", (hashed, columns, dtypes, None if name is None else str(name))


def _future_or_state(value: Any) -> bool:
    from headwater._private.futures import HeadwaterFuture
    from headwater._private.states import State

    return isinstance(value, (HeadwaterFuture, State))


_BY_KIND: list[tuple[Callable[[Any], bool], Callable[[Any], tuple[bytes, Any]]]] = [
    (lambda v: isinstance(v, enum.Enum), _enum),
    (lambda v: isinstance(v, pathlib.PurePath), _path),
    (_is_model, _model),
    (_is_dataclass, _dataclass),
    (_is_numpy, _numpy),
    (_is_pandas, _pandas),
]
