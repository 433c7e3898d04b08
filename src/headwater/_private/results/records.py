"""Result records: the small reference to a persisted result, and the file format.

A persisted result is stored as one object::

    HWR1\\n{"serializer": "pickle", "checksum": "sha256:...", ...}\\n<payload bytes>

and described by a `ResultRecord` (storage, storage key, serializer,
expiration, checksum), which is what a state keeps when
``cache_result_in_memory=False`` and what the API stores instead of the
payload. The checksum covers the payload, so a torn or damaged file is never
read back as a valid result.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any

from headwater._private.results.serializers import Serializer, get_serializer
from headwater._private.results.storage import ResultStorage, get_storage
from headwater._private.states import ResultRef
from headwater.exceptions import MissingResult, SerializationError

MAGIC = b"HWR1\n"


def checksum(payload: bytes) -> str:
    """Return the checksum stored with a payload."""
    return "sha256:" + hashlib.sha256(payload).hexdigest()


class ResultRecord(ResultRef):
    """A reference to a persisted result; `load` reads it back.

    Attributes:
        storage: Where the result is stored.
        storage_key: Its key in that storage.
        serializer: The serializer's name (``"pickle"``, ``"json"``...).
        expiration: When a cache entry made from it stops counting (None: never).
        checksum: ``sha256:<hex>`` of the serialized payload.
        cache_key: The cache key it was stored for, if any.
    """

    __slots__ = ("_serializer", "cache_key", "checksum", "expiration", "serializer",
                 "storage", "storage_key")

    def __init__(self, storage: ResultStorage, storage_key: str, serializer: str,
                 checksum: str, expiration: _dt.datetime | None = None,
                 cache_key: str | None = None,
                 serializer_instance: Serializer | None = None) -> None:
        self.storage = storage
        self.storage_key = storage_key
        self.serializer = serializer
        self.checksum = checksum
        self.expiration = expiration
        self.cache_key = cache_key
        self._serializer = serializer_instance

    # ------------------------------------------------------------------ metadata
    def metadata(self) -> dict[str, Any]:
        """Return the record as JSON-ready data (what the API stores)."""
        return {
            "storage": self.storage.url,
            "storage_key": self.storage_key,
            "serializer": self.serializer,
            "expiration": self.expiration.isoformat() if self.expiration else None,
            "checksum": self.checksum,
            "cache_key": self.cache_key,
        }

    @classmethod
    def from_metadata(cls, data: dict[str, Any],
                      storage: ResultStorage | None = None) -> ResultRecord:
        """Rebuild a record from `metadata` output."""
        expiration = data.get("expiration")
        return cls(
            storage if storage is not None else get_storage(data["storage"]),
            data["storage_key"], data["serializer"], data["checksum"],
            _dt.datetime.fromisoformat(expiration) if expiration else None,
            data.get("cache_key"),
        )

    def is_expired(self, now: _dt.datetime) -> bool:
        """Return True once the expiration has passed."""
        return self.expiration is not None and self.expiration <= now

    # ------------------------------------------------------------------ payload
    def load(self) -> Any:
        """Read, check and deserialize the result.

        Raises:
            MissingResult: Nothing is stored under the key any more.
            SerializationError: The stored bytes are damaged or cannot be read
                back with the serializer.
        """
        try:
            data = self.storage.read(self.storage_key)
        except FileNotFoundError:
            raise MissingResult(
                f"The persisted result {self.storage_key!r} is missing from "
                f"{self.storage.url}; it was deleted or never finished writing."
            ) from None
        header, payload = split_payload(data, self.storage_key)
        if checksum(payload) != self.checksum or header.get("checksum") != self.checksum:
            raise SerializationError(
                f"The persisted result {self.storage_key!r} in {self.storage.url} does not "
                "match its checksum; the file is damaged or was replaced."
            )
        serializer = self._serializer or get_serializer(self.serializer)
        try:
            return serializer.loads(payload)
        except Exception as exc:
            raise SerializationError(
                f"The persisted result {self.storage_key!r} could not be read back with the "
                f"{self.serializer!r} serializer: {type(exc).__name__}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return (f"ResultRecord(storage_key={self.storage_key!r}, serializer={self.serializer!r}, "
                f"storage={self.storage.url!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResultRecord) and self.metadata() == other.metadata()

    __hash__ = None  # type: ignore[assignment]


def pack(record: ResultRecord, payload: bytes) -> bytes:
    """Return the stored form of ``payload``: magic, header line, payload."""
    header = json.dumps(record.metadata(), separators=(",", ":")).encode()
    return b"".join((MAGIC, header, b"\n", payload))


def split_payload(data: bytes, key: str) -> tuple[dict[str, Any], bytes]:
    """Split a stored object into its header and payload.

    Raises:
        SerializationError: ``data`` is not a headwater result.
    """
    end = data.find(b"\n", len(MAGIC))
    if not data.startswith(MAGIC) or end < 0:
        raise SerializationError(f"{key!r} is not a headwater result (bad header).")
    try:
        header = json.loads(data[len(MAGIC):end])
    except ValueError:
        raise SerializationError(f"{key!r} has a damaged header.") from None
    return header, data[end + 1:]
