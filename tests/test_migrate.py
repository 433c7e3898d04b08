"""The Prefect 2 -> headwater source migration (``headwater._private.migrate``)."""

from __future__ import annotations

import textwrap

import pytest

from headwater._private.migrate import MigrationIssue, migrate_source


def migrate(source: str) -> str:
    return migrate_source(textwrap.dedent(source)).code


def issues(source: str) -> list[MigrationIssue]:
    return list(migrate_source(textwrap.dedent(source)).issues)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("import prefect\n", "import headwater\n"),
        ("from prefect import flow, task\n", "from headwater import flow, task\n"),
        ("from prefect.futures import PrefectFuture\n",
         "from headwater.futures import HeadwaterFuture\n"),
        ("x = prefect.runtime.flow_run.id\n", "x = headwater.runtime.flow_run.id\n"),
        ("from prefect.exceptions import PrefectException\n",
         "from headwater.exceptions import HeadwaterException\n"),
        ("from prefect.testing.utilities import prefect_test_harness\n",
         "from headwater.testing.utilities import headwater_test_harness\n"),
        ("os.environ['PREFECT_LOGGING_LEVEL'] = 'DEBUG'\n",
         "os.environ['HEADWATER_LOGGING_LEVEL'] = 'DEBUG'\n"),
        ('s = f"{a}PREFECT_HOME"\n', 's = f"{a}HEADWATER_HOME"\n'),
        ('log = logging.getLogger("prefect.flow_runs")\n',
         'log = logging.getLogger("headwater.flow_runs")\n'),
        ("from prefect.settings import PREFECT_API_URL\n",
         "from headwater.settings import HEADWATER_API_URL\n"),
        ("from prefect_dask import DaskTaskRunner, get_dask_client\n",
         "from headwater.dask import DaskTaskRunner, get_dask_client\n"),
        ("from prefect_dask.task_runners import DaskTaskRunner\n",
         "from headwater.dask import DaskTaskRunner\n"),
        # Prose that merely mentions prefect is not a module path.
        ('print("prefect is great")\n', 'print("prefect is great")\n'),
    ],
)
def test_rename(before: str, after: str) -> None:
    assert migrate(before) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("fut = await t.submit(1)", "fut = t.submit(1)"),
        ("futs = await t.map([1, 2], y=unmapped(3))", "futs = t.map([1, 2], y=unmapped(3))"),
        ("x = (await t.submit(1)).result", "x = (t.submit(1)).result"),
        ("v = await fut.result()", "v = await fut.result_async()"),
        ("v = await fut.result(raise_on_failure=False)",
         "v = await fut.result_async(raise_on_failure=False)"),
        ("s = await fut.wait(timeout=1)", "s = await fut.wait_async(timeout=1)"),
        ("v = await state.result(fetch=True)", "v = state.result()"),
        ("v = await state.result(raise_on_failure=False, fetch=True)",
         "v = state.result(raise_on_failure=False)"),
        ("s = await t.submit(1, return_state=True)", "s = await t.submit(1).wait_async()"),
        ("s = await t.with_options(retries=1).submit(1)",
         "s = t.with_options(retries=1).submit(1)"),
        # Awaiting a task call itself is still right for async tasks.
        ("v = await t(1)", "v = await t(1)"),
    ],
)
def test_async_idioms(before: str, after: str) -> None:
    body = "async def f():\n    {}\n"
    assert migrate(body.format(before)) == body.format(after)


def test_comments_and_formatting_are_kept() -> None:
    source = """\
    # a header comment
    from prefect import flow, task  # inline


    @flow(
        name="x",   # odd spacing kept
    )
    async def f():
        fut = await t.submit(
            1,  # first
        )
        return await fut.result()  # done
    """
    assert migrate(source) == textwrap.dedent(source).replace("prefect", "headwater").replace(
        "await t.submit", "t.submit"
    ).replace("fut.result()", "fut.result_async()")


def test_idempotent() -> None:
    source = textwrap.dedent("""\
        import prefect
        from prefect import flow

        @flow
        async def f():
            fut = await t.submit(1)
            s = await t.submit(2, return_state=True)
            return await fut.result(), await s.result(fetch=True), prefect.runtime.flow_run.id
        """)
    once = migrate_source(source)
    twice = migrate_source(once.code)
    assert once.changed
    assert not twice.changed
    assert twice.code == once.code


def test_unchanged_source_reports_unchanged() -> None:
    result = migrate_source("x = 1\n")
    assert result.code == "x = 1\n"
    assert not result.changed
    assert result.issues == ()


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("async def f():\n    await asyncio.gather(*[t.submit(i) for i in r])\n", 2,
         "asyncio.gather()"),
        ("def f():\n    t.map({'a': 1})\n", 2, "dict"),
        ("async def f():\n    await t.map([1], return_state=True)\n", 2, "wait_async"),
        ("from prefect.utilities.asyncutils import sync_compatible\n", 1,
         "headwater.utilities.asyncutils"),
        ("async def f():\n    await s.result(fetch=False)\n", 2, "fetch="),
        ("async def f():\n    return fut.result()\n", 2, "result_async"),
        ("async def f():\n    return [x.wait() for x in futs]\n", 2, "wait_async"),
    ],
)
def test_unsafe_cases_are_reported(source: str, line: int, fragment: str) -> None:
    found = issues(source)
    assert [issue.line for issue in found] == [line]
    assert fragment in found[0].message


def test_blocking_calls_in_sync_code_are_not_reported() -> None:
    assert issues("def f():\n    return fut.result(), fut.wait()\n") == []


def test_existing_modules_are_not_reported() -> None:
    assert issues("from prefect.tasks import task_input_hash\nimport prefect.runtime\n") == []
