"""Differential tests: each case's output on headwater against Prefect 2's golden.

A case (``cases/<name>.py``) is a small Prefect 2 script. Its golden
(``<name>.out``) was recorded under real Prefect 2 by
``scripts/record_conformance.py``. Here the case is migrated with
`migrate_source`, run on headwater in a fresh process and home, normalised with
the same normaliser, and compared with the golden in headwater's spelling.

* ``<name>.headwater.out`` replaces the golden for a documented deliberate
  difference; the case then carries ``# deliberate-difference:
  docs/migration.md#<anchor>`` and the anchor must exist.
* ``known_failures.txt`` lists cases where headwater differs without a
  documented reason: they are ``xfail(strict=True)``, so a fix shows up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from headwater._private.migrate import format_issues, migrate_source

sys.path.insert(0, str(Path(__file__).parent))
from normalise import compose_output, rename_output

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HERE = Path(__file__).parent
CASES = HERE / "cases"
MIGRATION_DOC = HERE.parent.parent / "docs" / "migration.md"
KNOWN_FAILURES = HERE / "known_failures.txt"
CASE_TIMEOUT = 60.0
WORKERS = 2
DELIBERATE = re.compile(r"^# deliberate-difference: docs/migration\.md#([\w-]+)\s*$", re.M)


def case_names() -> list[str]:
    return sorted(path.stem for path in CASES.glob("*.py"))


def known_failures() -> dict[str, str]:
    """Case name -> reason, from ``known_failures.txt`` (``name  reason`` lines)."""
    found: dict[str, str] = {}
    for line in KNOWN_FAILURES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            found[name] = reason.strip()
    return found


def migration_anchors() -> set[str]:
    """The anchors of docs/migration.md's headings, as mkdocs and GitHub make them."""
    anchors = set()
    for line in MIGRATION_DOC.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            anchors.add(re.sub(r"[ ]+", "-", title).strip("-"))
    return anchors


def headwater_env(home: Path, recording: bool) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "HEADWATER_", "PYTHONWARNINGS"))
    }
    env.update(
        HEADWATER_HOME=str(home),
        HEADWATER_API_ENABLE_RECORDING="true" if recording else "false",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def run_on_headwater(name: str, root: Path) -> tuple[str, str]:
    """Migrate and run one case; return (normalised output, migration report)."""
    source = (CASES / f"{name}.py").read_text()
    migrated = migrate_source(source)
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    script = workdir / f"{name}.py"
    script.write_text(migrated.code)
    recording = "# needs-recording" in source
    try:
        done = subprocess.run(
            [sys.executable, str(script)], cwd=workdir,
            env=headwater_env(workdir / "home", recording), capture_output=True, text=True,
            timeout=CASE_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return f"[timed out after {CASE_TIMEOUT} s]\n", ""
    report = format_issues(migrated.issues, f"{name}.py")
    return compose_output(done.stdout, done.stderr, done.returncode), report


@pytest.fixture(scope="module")
def headwater_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """Every case's output on headwater, run WORKERS at a time."""
    root = tmp_path_factory.mktemp("conformance")
    # A case with nothing to compare against is skipped: do not spend a run on it.
    names = [name for name in case_names() if expected_output(name) is not None]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outputs = list(pool.map(lambda name: run_on_headwater(name, root), names))
    return dict(zip(names, outputs, strict=True))


def expected_output(name: str) -> str | None:
    override = CASES / f"{name}.headwater.out"
    if override.exists():
        return override.read_text()
    golden = CASES / f"{name}.out"
    return rename_output(golden.read_text()) if golden.exists() else None


def _params() -> list[object]:
    failing = known_failures()
    return [
        pytest.param(
            name, id=name,
            marks=[pytest.mark.xfail(strict=True, reason=failing[name])] if name in failing else [],
        )
        for name in case_names()
    ]


@pytest.mark.parametrize("name", _params())
def test_case_matches_prefect2(name: str, headwater_outputs: dict[str, tuple[str, str]]) -> None:
    expected = expected_output(name)
    if expected is None:
        pytest.skip("no golden recorded: run scripts/record_conformance.py")
    actual, report = headwater_outputs[name]
    detail = f"\nmigration issues:\n{report}" if report else ""
    assert actual == expected, f"{name}: headwater differs from Prefect 2{detail}"


def test_known_failures_name_real_cases_with_reasons() -> None:
    names = set(case_names())
    for name, reason in known_failures().items():
        assert name in names, f"known_failures.txt names no case {name!r}"
        assert reason, f"known_failures.txt gives no reason for {name!r}"


def test_overrides_cite_documented_differences() -> None:
    anchors = migration_anchors()
    for override in CASES.glob("*.headwater.out"):
        name = override.name.removesuffix(".headwater.out")
        source = (CASES / f"{name}.py").read_text()
        cited = DELIBERATE.search(source)
        assert cited, f"{name}: an override needs '# deliberate-difference: docs/migration.md#..'"
        assert cited.group(1) in anchors, f"{name}: docs/migration.md has no #{cited.group(1)}"
        assert name not in known_failures(), f"{name}: both overridden and a known failure"
