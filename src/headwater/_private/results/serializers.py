"""Serializers: turn a result into bytes and back, chosen by name or instance.

``pickle`` (cloudpickle, the default), ``json`` (pydantic-aware) and
``compressed/pickle``/``compressed/json`` are built in; `register_serializer`
adds more. cloudpickle and pydantic are imported on first use only.
"""

from __future__ import annotations

import abc
import base64
import dataclasses
import datetime as _dt
import decimal
import importlib
import json
import pathlib
import uuid
from collections.abc import Callable
from typing import Any

from headwater.exceptions import InvalidOptionError, SerializationError

_MARK = "__headwater__"


class Serializer(abc.ABC):
    """Base class: ``dumps(value) -> bytes`` and ``loads(bytes) -> value``.

    Subclasses set ``type``, the name stored with each result, so the result
    can be read back with the same serializer.
    """

    type: str = "base"

    @abc.abstractmethod
    def dumps(self, value: Any) -> bytes:
        """Return ``value`` as bytes."""

    @abc.abstractmethod
    def loads(self, data: bytes) -> Any:
        """Return the value ``data`` was made from."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), self.type))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(type={self.type!r})"


class PickleSerializer(Serializer):
    """Pickle with cloudpickle (functions, lambdas, classes defined in ``__main__``).

    Args:
        picklelib: ``"cloudpickle"`` (default) or ``"pickle"``.
    """

    type = "pickle"

    def __init__(self, picklelib: str = "cloudpickle") -> None:
        if picklelib not in ("cloudpickle", "pickle"):
            raise InvalidOptionError(f"picklelib must be 'cloudpickle' or 'pickle', "
                                     f"got {picklelib!r}.")
        self.picklelib = picklelib

    def dumps(self, value: Any) -> bytes:
        """Pickle ``value``."""
        lib = importlib.import_module(self.picklelib)
        return bytes(lib.dumps(value, protocol=5))

    def loads(self, data: bytes) -> Any:
        """Unpickle ``data``."""
        import pickle

        # cloudpickle's output is a standard pickle; it imports what it needs.
        return pickle.loads(data)


class JSONSerializer(Serializer):
    """JSON, with pydantic models, dataclasses, datetimes, UUIDs, paths, bytes and sets.

    Non-JSON values are written as small tagged objects and rebuilt on load
    (a model through ``model_validate``, a dataclass through its constructor).
    Tuples come back as lists, as with any JSON.
    """

    type = "json"

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` as UTF-8 JSON."""
        return json.dumps(value, default=_encode, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        """Decode JSON written by `dumps`."""
        return json.loads(data, object_hook=_decode)


class CompressedSerializer(Serializer):
    """Another serializer's bytes, compressed (``zlib`` by default; ``lzma``, ``bz2``).

    Args:
        serializer: The inner serializer, by name or instance.
        compressionlib: The compression module.
    """

    def __init__(self, serializer: str | Serializer = "pickle",
                 compressionlib: str = "zlib") -> None:
        if compressionlib not in ("zlib", "lzma", "bz2", "gzip"):
            raise InvalidOptionError(
                f"compressionlib must be one of zlib, lzma, bz2, gzip; got {compressionlib!r}.")
        self.serializer = get_serializer(serializer)
        self.compressionlib = compressionlib
        self.type = f"compressed/{self.serializer.type}"

    def dumps(self, value: Any) -> bytes:
        """Serialize, then compress."""
        lib = importlib.import_module(self.compressionlib)
        return bytes(lib.compress(self.serializer.dumps(value)))

    def loads(self, data: bytes) -> Any:
        """Decompress, then deserialize."""
        lib = importlib.import_module(self.compressionlib)
        return self.serializer.loads(lib.decompress(data))


class CompressedPickleSerializer(CompressedSerializer):
    """Pickle, compressed: the ``compressed/pickle`` serializer."""

    def __init__(self, compressionlib: str = "zlib") -> None:
        super().__init__("pickle", compressionlib)


class CompressedJSONSerializer(CompressedSerializer):
    """JSON, compressed: the ``compressed/json`` serializer."""

    def __init__(self, compressionlib: str = "zlib") -> None:
        super().__init__("json", compressionlib)


_REGISTRY: dict[str, Callable[[], Serializer]] = {
    "pickle": PickleSerializer,
    "json": JSONSerializer,
    "compressed/pickle": CompressedPickleSerializer,
    "compressed/json": CompressedJSONSerializer,
}


def register_serializer(name: str, factory: Callable[[], Serializer]) -> None:
    """Make ``result_serializer=name`` build a serializer with ``factory()``.

    The factory's serializer should set ``type = name`` so results it wrote
    are read back with it in another process (which must register it too).
    """
    _REGISTRY[name] = factory


def serializer_names() -> list[str]:
    """Return the registered serializer names."""
    return sorted(_REGISTRY)


def get_serializer(value: str | Serializer | None) -> Serializer:
    """Return the serializer named or given; None means the default, ``pickle``.

    Raises:
        InvalidOptionError: No serializer has that name.
    """
    if value is None:
        value = "pickle"
    if isinstance(value, Serializer):
        return value
    if isinstance(value, str):
        factory = _REGISTRY.get(value)
        if factory is None and value.startswith("compressed/"):
            inner = value.split("/", 1)[1]
            if inner in _REGISTRY:
                return CompressedSerializer(inner)
        if factory is None:
            raise InvalidOptionError(
                f"No result serializer is named {value!r}; known names: "
                f"{', '.join(serializer_names())}. Register one with "
                "headwater.serializers.register_serializer()."
            )
        return factory()
    if callable(getattr(value, "dumps", None)) and callable(getattr(value, "loads", None)):
        return value  # duck-typed serializer
    raise InvalidOptionError(
        f"result_serializer must be a serializer name or instance, got {value!r}.")


def check_serializer_option(value: Any) -> None:
    """Reject an option value that can never be a serializer (at decoration time)."""
    if value is None or isinstance(value, (str, Serializer)):
        return
    if callable(getattr(value, "dumps", None)) and callable(getattr(value, "loads", None)):
        return
    raise InvalidOptionError(
        f"result_serializer must be a serializer name ({', '.join(serializer_names())}) "
        f"or a Serializer instance, got {value!r}."
    )


def serialize(serializer: Serializer, value: Any) -> bytes:
    """Serialize ``value``; any failure becomes `SerializationError` (cause kept)."""
    try:
        return serializer.dumps(value)
    except Exception as exc:
        raise SerializationError(f"{type(exc).__name__}: {exc}") from exc


# ---------------------------------------------------------------------- JSON
def _type_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _import_type(path: str) -> Any:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _encode(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return {_MARK: "datetime", "v": value.isoformat()}
    if isinstance(value, _dt.date):
        return {_MARK: "date", "v": value.isoformat()}
    if isinstance(value, _dt.time):
        return {_MARK: "time", "v": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {_MARK: "timedelta", "v": value.total_seconds()}
    if isinstance(value, uuid.UUID):
        return {_MARK: "uuid", "v": str(value)}
    if isinstance(value, pathlib.PurePath):
        return {_MARK: "path", "v": str(value)}
    if isinstance(value, decimal.Decimal):
        return {_MARK: "decimal", "v": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {_MARK: "bytes", "v": base64.b64encode(value).decode()}
    if isinstance(value, (set, frozenset)):
        return {_MARK: type(value).__name__, "v": list(value)}
    if hasattr(value, "model_dump") and hasattr(type(value), "model_validate"):
        return {_MARK: "model", "type": _type_path(type(value)),
                "v": value.model_dump(mode="json")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
        return {_MARK: "dataclass", "type": _type_path(type(value)), "v": fields}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "datetime": lambda d: _dt.datetime.fromisoformat(d["v"]),
    "date": lambda d: _dt.date.fromisoformat(d["v"]),
    "time": lambda d: _dt.time.fromisoformat(d["v"]),
    "timedelta": lambda d: _dt.timedelta(seconds=d["v"]),
    "uuid": lambda d: uuid.UUID(d["v"]),
    "path": lambda d: pathlib.Path(d["v"]),
    "decimal": lambda d: decimal.Decimal(d["v"]),
    "bytes": lambda d: base64.b64decode(d["v"]),
    "set": lambda d: set(d["v"]),
    "frozenset": lambda d: frozenset(d["v"]),
    "model": lambda d: _import_type(d["type"]).model_validate(d["v"]),
    "dataclass": lambda d: _import_type(d["type"])(**d["v"]),
}


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get(_MARK)
    if kind is None or not isinstance(kind, str):
        return obj
    decoder = _DECODERS.get(kind)
    return decoder(obj) if decoder is not None else obj
