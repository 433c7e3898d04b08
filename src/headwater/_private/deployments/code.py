"""Where a deployment's code is, and importing its entrypoint from there.

A deployment version records its ``code_location``: ``{"kind": "local",
"path": <absolute folder>}`` or ``{"kind": "git", "url": ..., "commit": ...,
"subdirectory": ...}``, and an ``entrypoint`` ``"path/file.py:fn"`` relative
to that folder. :func:`code_root` gives the folder (cloning a git repository
once per url and commit into ``HEADWATER_HOME/code``), :func:`load_flow`
imports the file by its path and returns the flow. Anything missing raises
:class:`CodeNotFoundError` whose message names what is missing and the fix:
never a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headwater.exceptions import HeadwaterException

__all__ = ["CodeNotFoundError", "code_root", "load_flow", "split_entrypoint"]


class CodeNotFoundError(HeadwaterException):
    """A deployment's code (folder, repository, file, module or function) cannot be found."""


def split_entrypoint(entrypoint: str) -> tuple[str, str]:
    """``"path/file.py:fn"`` -> ``("path/file.py", "fn")``.

    Raises:
        CodeNotFoundError: It does not have that shape.
    """
    path, sep, name = entrypoint.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise CodeNotFoundError(
            f"Entrypoint {entrypoint!r} is not of the form 'path/to/file.py:flow_function'. "
            "Give the file and the name of the flow function, separated by a colon.")
    return path, name


def code_root(code_location: Mapping[str, Any] | None, home: Path) -> Path:
    """The folder the entrypoint is relative to.

    Args:
        code_location: The version's code location; None means the current folder.
        home: ``HEADWATER_HOME``, under which git checkouts are cached.

    Raises:
        CodeNotFoundError: The folder is missing, or the repository or commit
            cannot be checked out.
    """
    if not code_location:
        return Path.cwd()
    kind = code_location.get("kind")
    if kind == "local":
        root = Path(str(code_location.get("path", "")))
        if not root.is_dir():
            raise CodeNotFoundError(
                f"The deployment's code folder {str(root)!r} does not exist on this machine. "
                "Run the deployment where that folder exists, or deploy it again from where "
                "its code is (or from a git repository).")
        return root
    if kind == "git":
        root = _git_checkout(str(code_location.get("url", "")), code_location.get("commit"),
                             home)
        sub = code_location.get("subdirectory")
        if sub:
            root = root / str(sub)
            if not root.is_dir():
                raise CodeNotFoundError(
                    f"The repository {code_location.get('url')!r} at commit "
                    f"{code_location.get('commit')} has no folder {sub!r}. Deploy again with "
                    "the subdirectory that holds the flow's code.")
        return root
    raise CodeNotFoundError(
        f"Unknown code location {dict(code_location)!r}: its 'kind' must be 'local' or 'git'.")


def _git_checkout(url: str, commit: str | None, home: Path) -> Path:
    """The checkout of ``url`` at ``commit``, cloned once into ``home/code/git``."""
    if not url:
        raise CodeNotFoundError("The deployment's git code location has no 'url'.")
    if shutil.which("git") is None:
        raise CodeNotFoundError(
            f"The deployment's code is in the git repository {url!r}, but git is not "
            "installed on this machine. Install git, then run the deployment again.")
    key = hashlib.sha256(f"{url}\n{commit or ''}".encode()).hexdigest()[:24]
    cache = home / "code" / "git"
    final = cache / key
    if commit and final.is_dir():
        return final  # a commit's checkout never changes
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache))
    try:
        _git(["clone", "--quiet", "--no-checkout", url, str(work)], url, commit)
        _git(["-C", str(work), "checkout", "--quiet", "--detach", commit or "HEAD"], url, commit)
        if not commit:
            return work  # no commit: a fresh checkout of HEAD each time
        try:
            os.replace(work, final)
        except OSError:  # another process put it there first
            shutil.rmtree(work, ignore_errors=True)
        return final
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _git(args: list[str], url: str, commit: str | None) -> None:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if result.returncode != 0:
        what = f"commit {commit} of " if commit and args[-1] == commit else ""
        raise CodeNotFoundError(
            f"Could not check out {what}the git repository {url!r}: "
            f"{result.stderr.strip() or 'git failed'}. Check that the repository is "
            "reachable from this machine (and that the commit was pushed), then run the "
            "deployment again.")


def load_flow(entrypoint: str, root: Path) -> Any:
    """Import ``entrypoint``'s file (by its path, under ``root``) and return its flow.

    The root and the file's folder go first on ``sys.path``, so the file's own
    imports of its neighbours work as they do when it is run as a script.

    Raises:
        CodeNotFoundError: The file is missing, importing it fails (the
            missing module is named), or it has no such flow.
    """
    from headwater._private.flows import Flow

    path_text, name = split_entrypoint(entrypoint)
    path = (root / path_text) if not Path(path_text).is_absolute() else Path(path_text)
    if not path.is_file():
        raise CodeNotFoundError(
            f"The entrypoint file {path_text!r} is not in {str(root)!r}. Check the "
            "deployment's entrypoint and code location, or deploy it again from the folder "
            "that holds the file.")
    for folder in (str(path.parent), str(root)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module_name = f"__headwater_flow_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}__"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        sys.modules.pop(module_name, None)
        raise CodeNotFoundError(
            f"Importing {path_text!r} failed: module {exc.name!r} was not found. Install it "
            f"in the environment that runs the deployment (python {sys.executable}), or add "
            "its folder to the deployment's code.") from None
    except Exception as exc:
        sys.modules.pop(module_name, None)
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        raise CodeNotFoundError(
            f"Importing {path_text!r} failed: {last}. Fix the error in the file, then run "
            "the deployment again.") from exc
    fn = getattr(module, name, None)
    if isinstance(fn, Flow):
        return fn
    flows = sorted(k for k, v in vars(module).items() if isinstance(v, Flow))
    found = (f"flows in it: {', '.join(flows)}" if flows else "it defines no flow at module level")
    if fn is None:
        problem = f"{path_text!r} has no {name!r} at module level ({found})"
    else:
        problem = f"{name!r} in {path_text!r} is a {type(fn).__name__}, not a flow ({found})"
    raise CodeNotFoundError(
        f"{problem}. Point the entrypoint at a function decorated with @flow at the top "
        "level of the file.")
