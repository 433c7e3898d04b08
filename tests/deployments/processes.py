"""Helpers for the end-to-end tests: real processes on loopback, their settings, the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from headwater.client import HeadwaterClient


def clean_env(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    return {**env, **settings}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def api(settings: dict[str, str], work: Callable[[HeadwaterClient], Any]) -> Any:
    """Run ``work(client)`` against the settings' target (a server, or the home's database)."""
    async def main() -> Any:
        if settings.get("HEADWATER_API_URL"):
            client = HeadwaterClient(settings["HEADWATER_API_URL"])
        else:
            from headwater.client._factory import embedded_client

            home = Path(settings["HEADWATER_HOME"])
            client = embedded_client(f"sqlite+aiosqlite:///{home / 'headwater.db'}",
                                     use_settings=False)
        async with client:
            return await work(client)

    return asyncio.run(main())


def eventually(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s (last: {value!r})")
        time.sleep(0.1)


@contextmanager
def process(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process; killed if the test leaves it running."""
    proc = subprocess.Popen([sys.executable, *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
