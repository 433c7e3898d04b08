"""SIGTERM during a top-level run becomes an exception, so the run ends Crashed with hooks.

Installed only in the main thread and only where the process has the default
SIGTERM action: a handler the user installed is never replaced.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from headwater.exceptions import TerminationSignal


def _raise_termination(signum: int, frame: FrameType | None) -> None:
    raise TerminationSignal(signum)


@contextmanager
def sigterm_as_exception(enabled: bool) -> Iterator[None]:
    """Raise `TerminationSignal` on SIGTERM inside the block.

    After the run has crashed and its hooks ran, the default action is
    restored and the signal is sent again, so the process still ends the way
    SIGTERM ends it (exit status -15 / 143).
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_termination)
    try:
        yield
    except TerminationSignal:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_termination:
            signal.signal(signal.SIGTERM, previous)
