"""``headwater migrate``: Prefect 2 files rewritten in place, ``--check`` and ``--diff``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from headwater.cli import app

PREFECT_CODE = textwrap.dedent('''\
    import asyncio

    from prefect import flow, task  # the task decorator
    from prefect.futures import PrefectFuture


    @task
    async def double(x: int) -> int:
        return 2 * x


    @flow
    async def main() -> int:
        future: PrefectFuture = await double.submit(21)
        return await future.result()
    ''')


def _files(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "project"
    folder.mkdir()
    script = folder / "pipeline.py"
    script.write_text(PREFECT_CODE)
    (folder / "plain.py").write_text("x = 1\n")
    return folder, script


def test_check_lists_what_would_change_and_changes_nothing(tmp_path: Path) -> None:
    folder, script = _files(tmp_path)
    result = CliRunner().invoke(app, ["migrate", str(folder), "--check"])
    assert result.exit_code == 1
    assert "1 file(s) would change" in result.output and str(script) in result.output
    assert script.read_text() == PREFECT_CODE


def test_migrate_rewrites_in_place_keeping_comments_and_is_idempotent(tmp_path: Path) -> None:
    folder, script = _files(tmp_path)
    first = CliRunner().invoke(app, ["migrate", str(folder), "--diff"])
    assert first.exit_code == 0, first.output
    assert "+from headwater import flow, task  # the task decorator" in first.output
    migrated = script.read_text()
    assert "from headwater.futures import HeadwaterFuture" in migrated
    assert "future: HeadwaterFuture = double.submit(21)" in migrated
    assert "await future.result_async()" in migrated
    again = CliRunner().invoke(app, ["migrate", str(folder), "--check"])
    assert again.exit_code == 0 and "0 file(s) would change" in again.output
    assert script.read_text() == migrated


def test_what_cannot_be_rewritten_is_reported_with_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "gather.py"
    script.write_text(textwrap.dedent('''\
        import asyncio
        from prefect import flow, task

        @task
        async def t(x):
            return x

        @flow
        async def f():
            return await asyncio.gather(t.submit(1), t.submit(2))
        '''))
    result = CliRunner().invoke(app, ["migrate", str(script)])
    assert result.exit_code == 0
    assert f"{script}:10:" in result.output
    assert "1 place(s) to review by hand" in result.output or "place(s) to review" in result.output


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", str(tmp_path / "nope.py")])
    assert result.exit_code == 1 and "no such file or folder" in result.output
