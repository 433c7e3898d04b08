"""Progress of long commands: drawn on a terminal (stderr), nothing elsewhere."""

from __future__ import annotations

import io

import pytest

from headwater.cli._output import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_progress_and_then_it_is_gone(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress("Deleting flow runs", 3) as advance:
        for _ in range(3):
            advance(1)
    drawn = terminal.getvalue()
    assert "Deleting flow runs" in drawn
    assert drawn.endswith("\x1b[2K")  # transient: the last thing drawn erases the bar


def test_a_pipe_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with progress("Deleting flow runs", 3) as advance:
        advance(3)
    assert pipe.getvalue() == ""
