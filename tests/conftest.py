"""Shared fixtures for the headwater test suite."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import pytest

# Runs are recorded by default (to HEADWATER_HOME/headwater.db): the suite
# records into a home of its own, never the user's ~/.headwater. Set before
# headwater reads its settings; tests that need a fresh home set their own.
os.environ["HEADWATER_HOME"] = tempfile.mkdtemp(prefix="headwater-tests-")

from hypothesis import settings

from headwater import flow

# Hypothesis profiles: "default" keeps each property test well inside the
# 60 s per-test timeout on a loaded 2-core machine; "thorough" tries five
# times as many examples (HYPOTHESIS_PROFILE=thorough python -m pytest ...).
# Tests that scale their example count read ``settings().max_examples``.
settings.register_profile("thorough", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@flow
def _configure_logging() -> None:
    """A no-op flow: running it applies headwater's logging config once."""


@pytest.fixture
def run_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog`` capturing headwater's run loggers down to DEBUG.

    headwater applies its logging config on the first run; running a no-op flow
    here makes sure that happened (and set the ``headwater`` logger's level)
    before the level is lowered here. The records propagate to pytest's capture
    handler on the root logger.
    """
    _configure_logging()
    caplog.set_level(logging.DEBUG, logger="headwater")
    return caplog


def run_in_thread(fn: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Call ``fn`` in a daemon thread; fail (instead of hanging) if it takes too long."""
    box: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"did not finish within {seconds} s (deadlock?)")
    ok, value = box[0]
    if not ok:
        raise value
    return value
