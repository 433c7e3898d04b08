"""Recording run records to the orchestration API, off the engine's hot path.

``ACTIVE`` is the recorder in force (None: recording off). The engine reads
it at each state change, so switching recorders (tests, settings changes
between flow runs) needs no engine restart.
"""

from __future__ import annotations

from typing import Any

from headwater._private.recording.recorder import Recorder, Transport

__all__ = ["ACTIVE", "Recorder", "RecorderLogSink", "Transport", "activate", "deactivate"]

ACTIVE: Recorder | None = None


class RecorderLogSink:
    """A log sink (see ``headwater.logging.handlers``) that puts records into the recorder.

    Logs then travel in the same batches as the runs they belong to, so a
    log never reaches the API before its run does.
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def send(self, batch: list[Any]) -> None:
        """Queue a batch of log records (called from the log handler's thread)."""
        self.recorder.logs(list(batch))


def activate(recorder: Recorder | None) -> Recorder | None:
    """Make ``recorder`` the active one (None turns recording off); return the previous."""
    global ACTIVE
    from headwater.logging.handlers import set_default_log_sink

    previous, ACTIVE = ACTIVE, recorder
    if recorder is not None:
        set_default_log_sink(RecorderLogSink(recorder))
    return previous


def deactivate() -> None:
    """Turn recording off (the log sink goes back to discarding records)."""
    global ACTIVE
    from headwater.logging.handlers import NullLogSink, set_default_log_sink

    ACTIVE = None
    set_default_log_sink(NullLogSink())
