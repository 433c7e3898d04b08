"""Record the golden output of the conformance cases under real Prefect 2.

Usage:
    python scripts/record_conformance.py [CASE_NAME ...] [--venv DIR] [--jobs N] [--missing]

Each case in ``tests/conformance/cases/*.py`` is written in Prefect 2 spelling.
This script runs it with Prefect 2 in a side virtualenv and writes
``<case>.out`` next to it: the case's stdout (plus an ``[exit N]`` line and the
last stderr line when it exits non-zero), normalised by
``tests/conformance/normalise.py``, the same normaliser the test uses to
compare headwater's output.

The side virtualenv (default ``~/.cache/headwater-conformance/prefect2-venv``,
or ``--venv`` / ``HEADWATER_CONFORMANCE_VENV``) is created on first use with
``prefect==2.20.26`` from PyPI, the last 2.x release, which resolved as pinned.

Every case runs in a fresh temporary ``PREFECT_HOME`` with no
``PREFECT_API_URL``, so Prefect 2 starts its ephemeral API on SQLite. Creating
that database takes several seconds, so it is created once in a template home
and copied into each case's home. At most two cases run at once (``--jobs``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "tests" / "conformance"
CASES = CONFORMANCE / "cases"
PREFECT_REQUIREMENT = "prefect==2.20.26"
DEFAULT_VENV = Path.home() / ".cache" / "headwater-conformance" / "prefect2-venv"
CASE_TIMEOUT = 120.0

sys.path.insert(0, str(CONFORMANCE))
from normalise import compose_output  # noqa: E402


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path) -> Path:
    """Create the side virtualenv with Prefect 2 unless it already has it."""
    python = venv_python(venv)
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import prefect; print(prefect.__version__)"],
            capture_output=True, text=True, check=False,
        )
        if check.returncode == 0 and check.stdout.startswith("2."):
            return python
    print(f"creating {venv} with {PREFECT_REQUIREMENT} (takes a minute)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", PREFECT_REQUIREMENT], check=True
    )
    return python


def prefect_env(home: Path) -> dict[str, str]:
    """The environment of one case run: an isolated, local, quiet Prefect 2."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "HEADWATER_", "PYTHON"))
    }
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_API_SERVICES_SCHEDULER_ENABLED="false",
        PREFECT_API_SERVICES_LATE_RUNS_ENABLED="false",
        PREFECT_API_SERVICES_FOREMAN_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def make_template_home(python: Path, root: Path) -> Path:
    """Run one trivial flow so the ephemeral API creates and migrates its database."""
    home = root / "template-home"
    home.mkdir()
    script = "from prefect import flow\n\n@flow\ndef warm():\n    return 1\n\nwarm()\n"
    subprocess.run(
        [str(python), "-c", script], env=prefect_env(home), cwd=root,
        capture_output=True, check=True, timeout=CASE_TIMEOUT,
    )
    return home


def record_case(python: Path, case: Path, template: Path, root: Path) -> str:
    """Run one case under Prefect 2 and write its golden; return a status line."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{case.stem}-", dir=root))
    home = workdir / "home"
    shutil.copytree(template, home)
    try:
        done = subprocess.run(
            [str(python), str(case)], env=prefect_env(home), cwd=workdir,
            capture_output=True, text=True, timeout=CASE_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return f"TIMEOUT {case.stem}"
    output = compose_output(done.stdout, done.stderr, done.returncode)
    case.with_suffix(".out").write_text(output)
    shutil.rmtree(workdir, ignore_errors=True)
    return f"{'ok  ' if done.returncode == 0 else f'exit {done.returncode}'} {case.stem}"


def select_cases(names: list[str], missing_only: bool) -> list[Path]:
    cases = sorted(CASES.glob("*.py"))
    if names:
        wanted = {Path(name).stem for name in names}
        cases = [case for case in cases if case.stem in wanted]
    if missing_only:
        cases = [case for case in cases if not case.with_suffix(".out").exists()]
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument(
        "--venv", type=Path,
        default=Path(os.environ.get("HEADWATER_CONFORMANCE_VENV", DEFAULT_VENV)),
    )
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2))
    parser.add_argument("--missing", action="store_true", help="only cases with no golden")
    args = parser.parse_args(argv)
    python = ensure_venv(args.venv)
    cases = select_cases(args.cases, args.missing)
    with tempfile.TemporaryDirectory(prefix="hw-conformance-") as tmp:
        root = Path(tmp)
        template = make_template_home(python, root)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for line in pool.map(lambda c: record_case(python, c, template, root), cases):
                print(line, flush=True)
    print(f"recorded {len(cases)} case(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
