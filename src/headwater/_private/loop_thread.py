"""Former home of the runtime loop; it is now the background loop (`headwater._private.background`).

Kept as re-exports while other modules move their imports.
"""

from __future__ import annotations

from headwater._private.background import get_loop as get_runtime_loop
from headwater._private.background import in_loop_thread as on_runtime_loop
from headwater._private.background import run as run_coroutine
from headwater._private.background import schedule_on_loop

__all__ = ["get_runtime_loop", "on_runtime_loop", "run_coroutine", "schedule_on_loop"]
