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

Importing Prefect 2 costs about 3 s of CPU per case, so by default each case
runs in a child forked from a process that has imported Prefect already (a
fork server); the child points Prefect's settings at its own home before the
case starts, then runs the case as ``__main__``. A case that sets environment
variables (``os.environ``) or says ``# record-fresh`` depends on the state at
import time and runs in a fresh interpreter instead, as do all cases with
``--fresh``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
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


def prefect_env(home: Path, template_ready: bool = True) -> dict[str, str]:
    """The environment of one case run: an isolated, local, quiet Prefect 2.

    Once the template home's database is migrated and has its block types, the
    ephemeral API is told not to check both again at every start (seconds each).
    """
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
    if template_ready:
        env.update(
            PREFECT_API_DATABASE_MIGRATE_ON_START="false",
            PREFECT_API_BLOCKS_REGISTER_ON_START="false",
        )
    return env


def make_template_home(python: Path, root: Path) -> Path:
    """Run one trivial flow so the ephemeral API creates and migrates its database."""
    home = root / "template-home"
    home.mkdir()
    script = "from prefect import flow\n\n@flow\ndef warm():\n    return 1\n\nwarm()\n"
    subprocess.run(
        [str(python), "-c", script], env=prefect_env(home, template_ready=False), cwd=root,
        capture_output=True, check=True, timeout=CASE_TIMEOUT,
    )
    return home


# Runs in the side virtualenv. Reads one JSON request per line, forks a child
# per request and answers with the child's exit status. The parent has imported
# Prefect (no threads are running yet, so forking is safe) but never runs a flow.
FORK_SERVER = r"""
import atexit, json, os, runpy, sys, traceback
import prefect, prefect.context, prefect.settings, prefect.engine, prefect.flows, prefect.tasks
import prefect.task_runners, prefect.client.orchestration, prefect.server.api.server

def child(req):
    os.environ["PREFECT_HOME"] = req["home"]
    # Prefect 2 reads its settings once, at import: read them again for this home.
    # The old root context must go first, or the new one starts from its values.
    prefect.context.GLOBAL_SETTINGS_CONTEXT = None
    prefect.context.GLOBAL_SETTINGS_CONTEXT = prefect.context.root_settings_context()
    if str(prefect.settings.PREFECT_HOME.value()) != req["home"]:
        sys.exit("fork server: PREFECT_HOME did not follow the environment")
    os.chdir(req["cwd"])
    for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    sys.argv = [req["case"]]
    code = 0
    try:
        runpy.run_path(req["case"], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        child(req)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class ForkServer:
    """A Prefect 2 process that forks one child per case (see FORK_SERVER)."""

    def __init__(self, python: Path, env: dict[str, str], cwd: Path) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [str(python), "-c", FORK_SERVER], env=env, cwd=cwd, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def run(self, case: Path, home: Path, workdir: Path) -> tuple[str, str, int]:
        out, err = workdir / "stdout.txt", workdir / "stderr.txt"
        request = {"case": str(case), "home": str(home), "cwd": str(workdir),
                   "stdout": str(out), "stderr": str(err)}
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            answer = json.loads(self._proc.stdout.readline())
        return out.read_text(), err.read_text(), int(answer["rc"])

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=30)


def needs_fresh_interpreter(case: Path) -> bool:
    source = case.read_text()
    return "os.environ" in source or "# record-fresh" in source


def run_fresh(python: Path, case: Path, home: Path, workdir: Path) -> tuple[str, str, int]:
    done = subprocess.run(
        [str(python), str(case)], env=prefect_env(home), cwd=workdir,
        capture_output=True, text=True, timeout=CASE_TIMEOUT, check=False,
    )
    return done.stdout, done.stderr, done.returncode


def record_case(
    python: Path, case: Path, template: Path, root: Path, servers: queue.Queue[ForkServer] | None
) -> str:
    """Run one case under Prefect 2 and write its golden; return a status line."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{case.stem}-", dir=root))
    home = workdir / "home"
    shutil.copytree(template, home)
    try:
        if servers is None or needs_fresh_interpreter(case):
            stdout, stderr, code = run_fresh(python, case, home, workdir)
        else:
            server = servers.get()
            try:
                stdout, stderr, code = server.run(case, home, workdir)
            finally:
                servers.put(server)
    except subprocess.TimeoutExpired:
        return f"TIMEOUT {case.stem}"
    case.with_suffix(".out").write_text(compose_output(stdout, stderr, code))
    shutil.rmtree(workdir, ignore_errors=True)
    return f"{'ok  ' if code == 0 else f'exit {code}'} {case.stem}"


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
    parser.add_argument("--fresh", action="store_true", help="a fresh interpreter per case")
    args = parser.parse_args(argv)
    python = ensure_venv(args.venv)
    cases = select_cases(args.cases, args.missing)
    with tempfile.TemporaryDirectory(prefix="hw-conformance-") as tmp:
        root = Path(tmp)
        template = make_template_home(python, root)
        servers: queue.Queue[ForkServer] | None = None
        if not args.fresh:
            servers = queue.Queue()
            server_home = root / "fork-server-home"  # never the template: it is copied
            server_home.mkdir()
            for _ in range(args.jobs):
                servers.put(ForkServer(python, prefect_env(server_home), root))
        try:
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                for line in pool.map(
                    lambda c: record_case(python, c, template, root, servers), cases
                ):
                    print(line, flush=True)
        finally:
            while servers is not None and not servers.empty():
                servers.get().close()
    print(f"recorded {len(cases)} case(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
