"""The conformance normaliser replaces what varies between runs, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from normalise import compose_output, normalise, rename_output


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("id 0b7c9f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f\n", "id <UUID>\n"),
        ("at 2024-05-01T12:00:00.123456+00:00\n", "at <TIMESTAMP>\n"),
        ("12:00:01.234 | INFO\n", "<TIME> | INFO\n"),
        ("took 0:00:00.012345\n", "took <DURATION>\n"),
        ("in 0.0123s\n", "in <DURATION>\n"),
        ("<object at 0x7f3a2b1c0d90>\n", "<object at 0x<ADDR>>\n"),
        ("Flow run 'crimson-otter' - done\n", "Flow run '<RUN-NAME>' - done\n"),
        ("flow_run.name=vivid-heron\n", "flow_run.name=<RUN-NAME>\n"),
        # Kept: configured values and task run names do not vary.
        ("timeout of 0.1 seconds\n", "timeout of 0.1 seconds\n"),
        ("['add-0', 'load-users']\n", "['add-0', 'load-users']\n"),
        ("trailing   \n\n\n", "trailing\n"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_compose_output_adds_exit_status_and_last_stderr_line() -> None:
    stderr = "Traceback (most recent call last):\n  ...\nValueError: boom\n"
    assert compose_output("partial", stderr, 1) == "partial\n[exit 1]\nValueError: boom\n"
    assert compose_output("ok\n", "noise\n", 0) == "ok\n"


def test_rename_output_applies_the_documented_rename() -> None:
    assert rename_output("prefect.flow_runs PrefectFuture PREFECT_HOME") == (
        "headwater.flow_runs HeadwaterFuture HEADWATER_HOME"
    )
