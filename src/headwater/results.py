"""Persisted results: the `ResultRecord` a state keeps, and the storages results go to.

Example:
    >>> from headwater import task
    >>> from headwater.results import LocalFileSystem
    >>> @task(persist_result=True, result_storage=LocalFileSystem("/tmp/results"))
    ... def add(x: int, y: int) -> int:
    ...     return x + y
"""

from headwater._private.results.records import ResultRecord
from headwater._private.results.storage import (
    LocalFileSystem,
    RemoteFileSystem,
    ResultStorage,
    get_storage,
)

__all__ = ["LocalFileSystem", "RemoteFileSystem", "ResultRecord", "ResultStorage", "get_storage"]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
