"""``headwater concurrency-limit create | inspect | ls | reset | delete``: tag limits.

Limits are kept in ``HEADWATER_HOME/concurrency_limits.json`` (until the API
stores them); a process reads the file the first time it needs a limit.
Slots are held in memory by the process running the tasks, so ``inspect``
shows the limit only, and ``reset`` has no slots to free here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from headwater._private.cli._common import fail
from headwater._private.concurrency.protocol import TAG_PREFIX, tag_limit_name
from headwater._private.concurrency.store import Limits, limits_path, load_limits, save_limits
from headwater.exceptions import SettingsError

concurrency_app = typer.Typer(no_args_is_help=True,
                              help="Manage task run concurrency limits by tag.")

Tag = Annotated[str, typer.Argument(help="The tag the limit applies to.")]


def _load() -> Limits:
    try:
        return load_limits(limits_path())
    except SettingsError as exc:
        fail(str(exc))


def _existing(limits: Limits, tag: str) -> tuple[int, float]:
    found = limits.get(tag_limit_name(tag))
    if found is None:
        fail(f"No concurrency limit for tag {tag!r}. Create one with "
             f"`headwater concurrency-limit create {tag} N`.")
    return found


@concurrency_app.command("create")
def create(
    tag: Tag,
    limit: Annotated[int, typer.Argument(min=0, help="How many runs may hold the tag at once.")],
) -> None:
    """Create (or change) the limit of a tag."""
    if not tag.strip():
        fail("The tag must not be empty.")
    limits = _load()
    existed = tag_limit_name(tag) in limits
    limits[tag_limit_name(tag)] = (limit, 0.0)
    save_limits(limits_path(), limits)
    typer.echo(f"{'Updated' if existed else 'Created'} concurrency limit for tag {tag!r}: "
               f"{limit} concurrent run(s).")


@concurrency_app.command("inspect")
def inspect(tag: Tag) -> None:
    """Show the limit of a tag."""
    limit, _ = _existing(_load(), tag)
    typer.echo(f"tag: {tag}\nconcurrency_limit: {limit}\n"
               "active_slots: held in memory by the processes running tasks")


@concurrency_app.command("ls")
def ls() -> None:
    """List tag limits."""
    from rich.console import Console
    from rich.table import Table

    limits = _load()
    table = Table("Tag", "Concurrency limit", box=None, show_edge=False)
    for name, (limit, _) in sorted(limits.items()):
        if name.startswith(TAG_PREFIX):
            table.add_row(name[len(TAG_PREFIX):], str(limit))
    if not table.row_count:
        typer.echo("No concurrency limits.")
        return
    Console().print(table)


@concurrency_app.command("reset")
def reset(tag: Tag) -> None:
    """Free the active slots of a tag's limit."""
    _existing(_load(), tag)
    typer.echo(f"Reset concurrency limit for tag {tag!r}. Slots are held in memory by the "
               "process running the tasks and freed when its runs end; in a running process, "
               "call headwater.concurrency.reset_concurrency_limit().")


@concurrency_app.command("delete")
def delete(tag: Tag) -> None:
    """Delete the limit of a tag."""
    limits = _load()
    _existing(limits, tag)
    del limits[tag_limit_name(tag)]
    save_limits(limits_path(), limits)
    typer.echo(f"Deleted concurrency limit for tag {tag!r}.")
