"""``headwater concurrency-limit create | inspect | ls | reset | delete``: tag limits.

Where limits live follows the concurrency backend: with ``HEADWATER_API_URL``
set or ``HEADWATER_API_ENABLE_RECORDING`` on, the API stores them (and the
slots), so every process using it sees them at once and ``inspect`` shows
who holds slots. Otherwise they are kept in
``HEADWATER_HOME/concurrency_limits.json``, which a process reads the first
time it needs a limit, and slots live in the memory of the process running
the tasks.
"""

from __future__ import annotations

from typing import Annotated

import typer

from headwater._private.concurrency.protocol import (
    TAG_PREFIX,
    ConcurrencyBackend,
    tag_limit_name,
)
from headwater._private.concurrency.store import Limits, limits_path, load_limits, save_limits
from headwater.cli._common import fail
from headwater.exceptions import ObjectNotFound, SettingsError

concurrency_app = typer.Typer(no_args_is_help=True,
                              help="Manage task run concurrency limits by tag.")

Tag = Annotated[str, typer.Argument(help="The tag the limit applies to.")]


def _api() -> ConcurrencyBackend | None:
    """The API backend when the settings select it, else None (the limits file)."""
    from headwater._private.concurrency.registry import get_slot_manager, uses_api

    return get_slot_manager() if uses_api() else None


def _load() -> Limits:
    try:
        return load_limits(limits_path())
    except SettingsError as exc:
        fail(str(exc))


def _missing(tag: str) -> str:
    return (f"No concurrency limit for tag {tag!r}. Create one with "
            f"`headwater concurrency-limit create {tag} N`.")


def _existing(limits: Limits, tag: str) -> tuple[int, float]:
    found = limits.get(tag_limit_name(tag))
    if found is None:
        fail(_missing(tag))
    return found


@concurrency_app.command("create")
def create(
    tag: Tag,
    limit: Annotated[int, typer.Argument(min=0, help="How many runs may hold the tag at once.")],
) -> None:
    """Create (or change) the limit of a tag."""
    if not tag.strip():
        fail("The tag must not be empty.")
    api = _api()
    if api is not None:
        existed = api.read_limit(tag_limit_name(tag)) is not None
        api.set_limit(tag_limit_name(tag), limit)
    else:
        limits = _load()
        existed = tag_limit_name(tag) in limits
        limits[tag_limit_name(tag)] = (limit, 0.0)
        save_limits(limits_path(), limits)
    typer.echo(f"{'Updated' if existed else 'Created'} concurrency limit for tag {tag!r}: "
               f"{limit} concurrent run(s).")


@concurrency_app.command("inspect")
def inspect(tag: Tag) -> None:
    """Show the limit of a tag (and, through the API, who holds its slots)."""
    api = _api()
    if api is None:
        limit, _ = _existing(_load(), tag)
        typer.echo(f"tag: {tag}\nconcurrency_limit: {limit}\n"
                   "active_slots: held in memory by the processes running tasks")
        return
    found = api.read_limit(tag_limit_name(tag))
    if found is None:
        fail(_missing(tag))
    holders = "".join(f"\n  - {h}" for h in found.holders)
    typer.echo(f"tag: {tag}\nconcurrency_limit: {found.limit}\n"
               f"active_slots: {found.active_slots}{holders}")


@concurrency_app.command("ls")
def ls() -> None:
    """List tag limits."""
    from rich.console import Console
    from rich.table import Table

    api = _api()
    table = Table("Tag", "Concurrency limit", *(("Active slots",) if api else ()),
                  box=None, show_edge=False)
    if api is not None:
        for lim in api.list_limits():
            if lim.tag is not None:
                table.add_row(lim.tag, str(lim.limit), str(lim.active_slots))
    else:
        for name, (limit, _) in sorted(_load().items()):
            if name.startswith(TAG_PREFIX):
                table.add_row(name[len(TAG_PREFIX):], str(limit))
    if not table.row_count:
        typer.echo("No concurrency limits.")
        return
    Console().print(table)


@concurrency_app.command("reset")
def reset(tag: Tag) -> None:
    """Free the active slots of a tag's limit."""
    api = _api()
    if api is not None:
        try:
            api.reset_limit(tag_limit_name(tag))
        except ObjectNotFound:
            fail(_missing(tag))
        typer.echo(f"Reset concurrency limit for tag {tag!r}: every slot is free.")
        return
    _existing(_load(), tag)
    typer.echo(f"Reset concurrency limit for tag {tag!r}. Slots are held in memory by the "
               "process running the tasks and freed when its runs end; in a running process, "
               "call headwater.concurrency.reset_concurrency_limit().")


@concurrency_app.command("delete")
def delete(tag: Tag) -> None:
    """Delete the limit of a tag."""
    api = _api()
    if api is not None:
        try:
            api.delete_limit(tag_limit_name(tag))
        except ObjectNotFound:
            fail(_missing(tag))
    else:
        limits = _load()
        _existing(limits, tag)
        del limits[tag_limit_name(tag)]
        save_limits(limits_path(), limits)
    typer.echo(f"Deleted concurrency limit for tag {tag!r}.")
