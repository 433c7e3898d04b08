"""The examples of docs/schedules.md and of the schedule docstrings run as written."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_schedules_page_examples_run() -> None:
    result = doctest.testfile(str(DOCS / "schedules.md"), module_relative=False,
                              optionflags=FLAGS, raise_on_error=False, verbose=False)
    assert result.attempted > 20
    assert result.failed == 0


def test_docstring_examples_run() -> None:
    # The classes' __module__ is the public one, so its finder sees them all.
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    tests = doctest.DocTestFinder().find(importlib.import_module("headwater.schedules"))
    assert {t.name.rsplit(".", 1)[-1] for t in tests} >= {
        "CronSchedule", "IntervalSchedule", "RRuleSchedule", "DeploymentScheduleCreate"}
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
