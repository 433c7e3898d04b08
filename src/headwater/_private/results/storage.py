"""Where persisted results live: a local folder by default, or any fsspec URL.

A storage maps keys (``"a1b2..."`` or ``"reports/2024-01-01.pkl"``) to bytes.
Writes are atomic: a local write goes to a temporary file in the same folder
and is renamed over the key, so a crash mid-write leaves either the old file
or none, never half a result; object stores (``s3://``, ``gs://``) make each
put atomic themselves. Cache locks are local file locks (``fcntl.flock``),
which the OS releases if the process dies.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from headwater.exceptions import InvalidOptionError

LOCK_POLL_SECONDS = 0.005


class ResultStorage(abc.ABC):
    """Base class of result storages: ``read``, ``write``, ``exists``, ``delete``."""

    @abc.abstractmethod
    def read(self, key: str) -> bytes:
        """Return the bytes stored under ``key``; raise FileNotFoundError if none."""

    @abc.abstractmethod
    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically, replacing what was there."""

    def exists(self, key: str) -> bool:
        """Return True when something is stored under ``key``."""
        try:
            self.read(key)
        except FileNotFoundError:
            return False
        return True

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it is missing)."""

    def lock(self, key: str) -> CacheLock | None:
        """Return an unlocked lock for ``key``, or None when this storage has none."""
        return None

    @property
    def url(self) -> str:
        """Where this storage points, as a URL (stored in result records)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class CacheLock:
    """An exclusive lock on one cache key, across threads and processes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds; return True if taken."""
        import fcntl

        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        delay = LOCK_POLL_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            self._fd = fd
            return True

    def release(self) -> None:
        """Let go of the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def __del__(self) -> None:
        self.release()


class LocalFileSystem(ResultStorage):
    """Results as files under ``basepath`` (created on first write).

    Args:
        basepath: The folder; ``~`` is expanded.
    """

    def __init__(self, basepath: str | os.PathLike[str]) -> None:
        self.basepath = Path(basepath).expanduser()
        self._base = str(self.basepath)

    @property
    def url(self) -> str:
        """``file://`` URL of the folder."""
        return self.basepath.absolute().as_uri()

    def _path(self, key: str) -> str:
        # Plain string paths: this runs on every cache lookup.
        if ".." in key.replace("\\", "/").split("/") or os.path.isabs(key):
            raise InvalidOptionError(
                f"The result storage key {key!r} points outside {self.basepath}; "
                "use a relative key without '..'.")
        return os.path.join(self._base, key)

    def read(self, key: str) -> bytes:
        """Return the file's bytes."""
        with open(self._path(key), "rb") as file:
            return file.read()

    def write(self, key: str, data: bytes) -> None:
        """Write to a temporary file beside the target, then rename it over the target."""
        path = self._path(key)
        folder, name = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            # Readable by the owner only: results may hold anything the flow computed.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                _write_all(file, data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def exists(self, key: str) -> bool:
        """Return True when the file exists."""
        return os.path.isfile(self._path(key))

    def delete(self, key: str) -> None:
        """Remove the file if it exists."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def lock(self, key: str) -> CacheLock | None:
        """Return a file lock under ``.locks/`` (None where ``fcntl`` is missing)."""
        try:
            import fcntl  # noqa: F401
        except ImportError:  # pragma: no cover - Windows
            return None
        return CacheLock(self.basepath / ".locks" / f"{key}.lock")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalFileSystem) and self.basepath == other.basepath

    def __hash__(self) -> int:
        return hash(self.basepath)


def _write_all(file: Any, data: bytes) -> None:
    """Write ``data`` (a seam for tests that simulate a crash mid-write)."""
    file.write(data)


class RemoteFileSystem(ResultStorage):
    """Results under an fsspec URL: ``s3://bucket/prefix``, ``memory://results``...

    Needs ``pip install headwater[fsspec]`` plus the backend's package
    (``s3fs``, ``gcsfs``, ``adlfs``).

    Args:
        basepath: The URL of the folder.
        **storage_options: Passed to the fsspec filesystem (credentials...).
    """

    def __init__(self, basepath: str, **storage_options: Any) -> None:
        self.basepath = basepath.rstrip("/")
        self.storage_options = storage_options
        self._fs: Any = None
        self._fs_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL."""
        return self.basepath

    @property
    def filesystem(self) -> Any:
        """The fsspec filesystem (fsspec imported on first use)."""
        if self._fs is None:
            with self._fs_lock:
                if self._fs is None:
                    self._fs = _fsspec_filesystem(self.basepath, self.storage_options)
        return self._fs

    def _path(self, key: str) -> str:
        if ".." in key.split("/"):
            raise InvalidOptionError(f"The result storage key {key!r} may not contain '..'.")
        return f"{self.basepath}/{key}"

    def read(self, key: str) -> bytes:
        """Return the object's bytes."""
        return bytes(self.filesystem.cat_file(self._path(key)))

    def write(self, key: str, data: bytes) -> None:
        """Put the object in one request (atomic on object stores)."""
        path = self._path(key)
        parent = path.rsplit("/", 1)[0]
        with contextlib.suppress(Exception):
            self.filesystem.makedirs(parent, exist_ok=True)
        self.filesystem.pipe_file(path, data)

    def exists(self, key: str) -> bool:
        """Return True when the object exists."""
        return bool(self.filesystem.exists(self._path(key)))

    def delete(self, key: str) -> None:
        """Remove the object if it exists."""
        with contextlib.suppress(FileNotFoundError):
            self.filesystem.rm_file(self._path(key))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteFileSystem) and (
            self.basepath, self.storage_options) == (other.basepath, other.storage_options)

    def __hash__(self) -> int:
        return hash(self.basepath)


def _fsspec_filesystem(url: str, options: dict[str, Any]) -> Any:
    try:
        fsspec = importlib.import_module("fsspec")
    except ImportError as exc:
        raise InvalidOptionError(
            f"Result storage {url!r} needs fsspec: pip install 'headwater[fsspec]' "
            "and the package for that protocol (s3fs for s3://, gcsfs for gs://...)."
        ) from exc
    protocol = url.split("://", 1)[0]
    try:
        return fsspec.filesystem(protocol, **options)
    except (ImportError, ValueError) as exc:
        raise InvalidOptionError(
            f"Result storage {url!r}: fsspec cannot open {protocol}:// ({exc}). "
            "Install the backend package for it."
        ) from exc


_CACHE: dict[Any, ResultStorage] = {}
_CACHE_LOCK = threading.Lock()


def get_storage(value: Any, default_path: Path | None = None) -> ResultStorage:
    """Return the storage for a ``result_storage`` option value.

    None means the local folder ``default_path``; a string with ``://`` is a
    URL (``file://`` is a local folder, anything else goes through fsspec);
    any other string or path is a local folder; a `ResultStorage` is used as is.
    """
    if isinstance(value, ResultStorage):
        return value
    if value is None:
        if default_path is None:
            raise InvalidOptionError("No result storage given and no default path.")
        value = default_path
    if isinstance(value, str) and value.startswith("file://"):
        value = value[len("file://"):]
    key = (type(value), str(value))
    storage = _CACHE.get(key)
    if storage is None:
        if isinstance(value, str) and "://" in value:
            storage = RemoteFileSystem(value)
        elif isinstance(value, (str, os.PathLike)):
            storage = LocalFileSystem(value)
        else:
            raise InvalidOptionError(
                "result_storage must be a folder path, a URL (s3://..., memory://...) or a "
                f"storage object such as LocalFileSystem(...), got {value!r}.")
        with _CACHE_LOCK:
            storage = _CACHE.setdefault(key, storage)
    return storage


def check_storage_option(value: Any) -> None:
    """Reject an option value that can never be a storage (at decoration time)."""
    if value is None or isinstance(value, (str, os.PathLike, ResultStorage)):
        return
    raise InvalidOptionError(
        "result_storage must be a folder path, a URL (s3://..., memory://...) or a storage "
        f"object such as LocalFileSystem(...), got {value!r}.")
