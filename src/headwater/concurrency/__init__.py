"""Concurrency limits: tag limits for task runs, ``concurrency()`` and ``rate_limit()``.

Limits live in this process (the CLI's ``headwater concurrency-limit``
commands write ``HEADWATER_HOME/concurrency_limits.json``, read once when a
process first needs a limit); the API will store them later.

Example:
    >>> from headwater.concurrency import concurrency, set_global_concurrency_limit
    >>> set_global_concurrency_limit("warehouse", 4)
    >>> with concurrency("warehouse", occupy=2):
    ...     load_batch()
"""

from headwater._private.concurrency.api import (
    concurrency,
    delete_concurrency_limit,
    delete_global_concurrency_limit,
    list_concurrency_limits,
    rate_limit,
    rate_limit_async,
    read_concurrency_limit,
    read_global_concurrency_limit,
    reset_concurrency_limit,
    set_concurrency_limit,
    set_global_concurrency_limit,
)
from headwater._private.concurrency.protocol import ConcurrencyLimit
from headwater.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)

__all__ = [
    "AcquireConcurrencySlotTimeoutError",
    "ConcurrencyLimit",
    "ConcurrencySlotAcquisitionError",
    "concurrency",
    "delete_concurrency_limit",
    "delete_global_concurrency_limit",
    "list_concurrency_limits",
    "rate_limit",
    "rate_limit_async",
    "read_concurrency_limit",
    "read_global_concurrency_limit",
    "reset_concurrency_limit",
    "set_concurrency_limit",
    "set_global_concurrency_limit",
]


def _fix_module_names() -> None:
    """Make public names say ``headwater.concurrency.X`` in reprs, docs and pickles."""
    for public in (concurrency, rate_limit, rate_limit_async, ConcurrencyLimit,
                   set_concurrency_limit, read_concurrency_limit, reset_concurrency_limit,
                   delete_concurrency_limit, list_concurrency_limits,
                   set_global_concurrency_limit, read_global_concurrency_limit,
                   delete_global_concurrency_limit):
        public.__module__ = "headwater.concurrency"


_fix_module_names()
