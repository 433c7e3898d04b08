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
# The settings the active recorder was made from; None when it was chosen by hand.
_configured_from: tuple[Any, ...] | None = None


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
    global ACTIVE, _configured_from
    from headwater._private.log_handlers import flush_logs, set_default_log_sink

    _configured_from = None  # chosen by hand: ensure_recorder() leaves it alone
    # Records queued before now belong to runs this recorder never saw: let
    # them go to the old sink rather than name unknown runs in the new one.
    flush_logs(5.0)
    previous, ACTIVE = ACTIVE, recorder
    if recorder is not None and _sink_is_ours():
        set_default_log_sink(RecorderLogSink(recorder))
    return previous


def _sink_is_ours() -> bool:
    """True unless the user chose the default log sink (theirs is left alone)."""
    from headwater._private.log_handlers import NullLogSink, get_default_log_sink

    return isinstance(get_default_log_sink(), NullLogSink | RecorderLogSink)


def ensure_recorder() -> Recorder | None:
    """Activate the recorder the settings ask for (at a top-level run's start).

    ``HEADWATER_API_ENABLE_RECORDING`` switches recording on; runs then go to
    the process's target (`headwater._private.target`): ``HEADWATER_API_URL``,
    or the local database when no URL is set. A recorder activated by hand
    (tests) is kept.
    """
    global _configured_from
    from headwater._private.target import current_target

    target = current_target()
    wanted = (target.recording, target.api_url, target.api_key, target.home,
              target.database_url)
    if wanted == _configured_from:
        return ACTIVE
    if ACTIVE is not None and _configured_from is None and not ACTIVE.closed:
        return ACTIVE  # activated explicitly: not ours to replace (unless closed since)
    previous = ACTIVE
    if not target.recording:
        if previous is not None:
            deactivate()
            previous.close()
        _configured_from = wanted
        return None
    from headwater._private.recording.transports import transport_factory

    # A server: fewer, larger requests. A local write is cheap to start: small
    # batches often, so the database work overlaps the runs where it can.
    interval = 0.2 if target.api_url else 0.005
    recorder = Recorder(transport_factory(target), interval=interval,
                        spool_dir=target.home / "spool")
    activate(recorder)
    _configured_from = wanted
    if previous is not None:
        previous.close()
    return recorder


def deactivate() -> None:
    """Turn recording off (the log sink goes back to discarding records)."""
    global ACTIVE
    from headwater._private.log_handlers import NullLogSink, set_default_log_sink

    ACTIVE = None
    if _sink_is_ours():
        set_default_log_sink(NullLogSink())
