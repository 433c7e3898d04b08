"""``headwater profile ls | create | use | delete``: manage profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater._private.settings import Profile, SettingsError, load_profiles, save_profiles
from headwater._private.settings.sources import locate_profiles
from headwater.cli._common import fail

profile_app = typer.Typer(no_args_is_help=True, help="Manage settings profiles.")


@profile_app.command("ls")
def ls() -> None:
    """List profiles; the active one is marked with *."""
    from rich.console import Console
    from rich.table import Table

    path, chosen = locate_profiles()
    try:
        collection = load_profiles(path)
    except SettingsError as exc:
        fail(str(exc))
    active = chosen or collection.active
    table = Table("", "Profile", "Settings", box=None, show_edge=False)
    for name, profile in collection.profiles.items():
        table.add_row("*" if name == active else "", name, str(len(profile.settings)))
    Console().print(table)


@profile_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the new profile.")],
    from_: Annotated[str | None, typer.Option(
        "--from", help="Copy the settings of this profile.")] = None,
) -> None:
    """Create a profile (empty, or a copy of another)."""
    path, _ = locate_profiles()
    try:
        collection = load_profiles(path)
        if name in collection.profiles:
            fail(f"Profile {name!r} already exists.")
        settings = dict(collection.get(from_).settings) if from_ else {}
        collection.profiles[name] = Profile(name, settings)
        save_profiles(collection, path)
    except SettingsError as exc:
        fail(str(exc))
    typer.echo(f"Created profile {name!r}. Switch to it with `headwater profile use {name}`.")


@profile_app.command("use")
def use(name: Annotated[str, typer.Argument(help="The profile to make active.")]) -> None:
    """Make a profile the active one."""
    path, chosen = locate_profiles()
    try:
        collection = load_profiles(path)
        collection.get(name)
        collection.active = name
        save_profiles(collection, path)
    except SettingsError as exc:
        fail(str(exc))
    typer.echo(f"Profile {name!r} is now active.")
    if chosen is not None and chosen != name:
        typer.secho(f"Warning: HEADWATER_PROFILE={chosen!r} is set and takes precedence.",
                    err=True, fg=typer.colors.YELLOW)


@profile_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="The profile to delete.")]) -> None:
    """Delete a profile (not the active one)."""
    path, _ = locate_profiles()
    try:
        collection = load_profiles(path)
        collection.get(name)
        if name == collection.active:
            fail(f"Profile {name!r} is active; switch to another one first "
                 "(`headwater profile use NAME`).")
        del collection.profiles[name]
        save_profiles(collection, path)
    except SettingsError as exc:
        fail(str(exc))
    typer.echo(f"Deleted profile {name!r}.")
