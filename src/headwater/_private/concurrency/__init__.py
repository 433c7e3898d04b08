"""Concurrency limits: leases, fair waiting, rate limits, in process or through the API.

Modules: ``protocol`` (the backend protocol and `ConcurrencyLimit`),
``manager`` (`SlotManager`, in process: thread-safe, over ``slot_book``, the
counting, with ``lease_handles`` it hands out and ``slot_waiting``, its
waits), ``remote`` (`APIConcurrencyBackend`,
shared across processes), ``leases`` and ``link`` (its leases and its
thread), ``slots`` and ``sqlite_slots`` (where it takes slots: the API, or
the embedded SQLite file directly), ``store`` (the limits file),
``registry`` (the process's default backend), ``tags`` (what the engine
calls), ``api`` (the public functions).
"""

from headwater._private.concurrency.manager import SlotLease, SlotManager
from headwater._private.concurrency.protocol import (
    ConcurrencyBackend,
    ConcurrencyLimit,
    Lease,
    SlotRequest,
    tag_limit_name,
)
from headwater._private.concurrency.registry import (
    get_slot_manager,
    reset_slot_manager,
    use_slot_manager,
)
from headwater._private.concurrency.tags import (
    acquire_tag_slots,
    acquire_tag_slots_async,
    request_tag_slots,
)

__all__ = [
    "ConcurrencyBackend",
    "ConcurrencyLimit",
    "Lease",
    "SlotLease",
    "SlotManager",
    "SlotRequest",
    "acquire_tag_slots",
    "acquire_tag_slots_async",
    "get_slot_manager",
    "request_tag_slots",
    "reset_slot_manager",
    "tag_limit_name",
    "use_slot_manager",
]
