"""TEMPORARY until the planner lands on main: the server tests' interval-only planner."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fake_planner(monkeypatch: pytest.MonkeyPatch) -> None:
    from headwater.server.services import planning
    from server.fake_planner import FakePlanner

    monkeypatch.setattr(planning, "_planner", FakePlanner())
