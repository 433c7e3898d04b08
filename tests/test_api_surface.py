"""Every public name of Prefect 2 exists in headwater, or docs/migration.md says why not."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    path = REPO / "scripts" / "api_surface.py"
    spec = importlib.util.spec_from_file_location("api_surface", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_surface"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


api_surface = _load_script()


def test_every_prefect2_name_is_provided_or_documented() -> None:
    surface = json.loads(api_surface.SNAPSHOT.read_text())
    reports = api_surface.build_report(surface, api_surface.MIGRATION.read_text())
    missing = [path for report in reports for path in report.missing]
    assert missing == [], (
        "Prefect 2 names missing from headwater without a row in the 'Names not provided' "
        "table of docs/migration.md:\n" + "\n".join(missing))


def test_the_table_is_parsed_and_patterns_match() -> None:
    markdown = ("# x\n\n## Names not provided\n\n| Prefect 2 name | Reason |\n|---|---|\n"
                "| `prefect.blocks.*`, `prefect.a.b` | not built |\n\n## Next\n\n"
                "| `prefect.c` | outside the section |\n")
    assert api_surface.not_provided_patterns(markdown) == ["prefect.blocks.*", "prefect.a.b"]
    [report] = api_surface.build_report(
        {"prefect.blocks.core": ["Block"]}, markdown)
    assert report.documented == ["prefect.blocks.core.Block"]


def test_names_are_renamed_and_checked_at_the_same_path() -> None:
    [report] = api_surface.build_report(
        {"prefect.testing.utilities": ["prefect_test_harness", "no_such_name"]}, "")
    assert report.provided == ["prefect.testing.utilities.prefect_test_harness"]
    assert report.missing == ["prefect.testing.utilities.no_such_name"]
