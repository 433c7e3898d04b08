"""Prefect 2's ``prefect.filesystems`` names for result storage (see `headwater.results`)."""

from headwater._private.results.storage import LocalFileSystem, RemoteFileSystem

__all__ = ["LocalFileSystem", "RemoteFileSystem"]
