"""In CI every optional extra is installed, so the tests that skip without one really run.

On a user's machine a test module of an extra skips when the extra is not
installed (``pytest.importorskip``); ``.ci/run`` sets ``HEADWATER_CI=1`` and
installs them all, and this test fails if one is missing there, instead of
letting its tests skip silently.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

EXTRAS = {"dask": ("dask", "distributed"), "test": ("nbclient", "nbformat", "ipykernel")}


@pytest.mark.skipif(os.environ.get("HEADWATER_CI") != "1",
                    reason="only in CI (HEADWATER_CI=1, set by .ci/run)")
@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_the_extra_is_installed_in_ci(extra: str) -> None:
    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    assert not missing, (f"CI must install headwater[{extra}] (missing {missing}): its "
                         "tests would be skipped. See .ci/run.")


def test_importing_headwater_does_not_import_dask() -> None:
    import subprocess
    import sys

    code = ("import sys, headwater, headwater.task_runners, headwater.dask, headwater.runtime; "
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
