"""Test helpers for recorders activated by hand."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from headwater._private import recording
from headwater._private.recording import Recorder


@contextlib.contextmanager
def active(recorder: Recorder) -> Iterator[Recorder]:
    """``recorder`` active for the block, then closed, and recording as it was before.

    As it was, that is, the recorder before included, and whether the settings
    chose it: put back with ``activate`` alone, a recorder the settings had
    chosen (for another test's home) would count as chosen by hand and be
    kept by every later flow run, whatever their settings.
    """
    before = recording.ACTIVE, recording._configured_from
    recording.activate(recorder)
    try:
        yield recorder
    finally:
        recorder.close()
        recording.deactivate()
        if before[0] is not None:
            recording.activate(before[0])
        recording._configured_from = before[1]
