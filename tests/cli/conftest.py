"""Fixtures of the command-line tests: a fresh HEADWATER_HOME, the typer runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.settings import temporary_settings


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh home whose local database records the runs of the test."""
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"
