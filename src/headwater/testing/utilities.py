"""``headwater_test_harness()``: run a test suite against a throwaway headwater home."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["headwater_test_harness"]


@contextmanager
def headwater_test_harness() -> Iterator[Path]:
    """Point ``HEADWATER_HOME`` at a fresh temporary folder for the ``with`` block.

    Anything headwater writes (results, and the run database once the API
    exists) goes there and is deleted afterwards, so tests never touch the
    user's real home.

    Example:
        >>> import pytest
        >>> from headwater.testing.utilities import headwater_test_harness
        >>> @pytest.fixture(autouse=True, scope="session")
        ... def headwater_home():
        ...     with headwater_test_harness():
        ...         yield

    Yields:
        The temporary home folder.
    """
    previous = os.environ.get("HEADWATER_HOME")
    with tempfile.TemporaryDirectory(prefix="headwater-test-") as home:
        os.environ["HEADWATER_HOME"] = home
        try:
            yield Path(home)
        finally:
            if previous is None:
                os.environ.pop("HEADWATER_HOME", None)
            else:
                os.environ["HEADWATER_HOME"] = previous
