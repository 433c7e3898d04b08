"""``headwater config view | set | unset``: inspect and edit the active profile."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater._private.settings import (
    SettingsError,
    collect_values,
    get_current_settings,
    invalidate_settings_cache,
    load_profiles,
    save_profiles,
)
from headwater._private.settings.fields import (
    NOT_IN_PROFILE,
    is_logging_override,
    normalize_key,
    setting_fields,
    unknown_setting_message,
)
from headwater._private.settings.sources import DEFAULT, ENVIRONMENT, validate
from headwater.cli._common import fail, shown

config_app = typer.Typer(no_args_is_help=True, help="View and edit settings.")


@config_app.command("view")
def view(
    show_sources: Annotated[bool, typer.Option(
        "--show-sources", help="Say where each value comes from.")] = False,
    show_defaults: Annotated[bool, typer.Option(
        "--show-defaults", help="Also list settings left at their defaults.")] = False,
) -> None:
    """Show the settings in effect (secrets are masked)."""
    invalidate_settings_cache()
    try:
        collected = collect_values()
    except SettingsError as exc:
        fail(str(exc))
    typer.echo(f"HEADWATER_PROFILE={collected.profile!r}")
    values = dict(collected.values)
    values.pop("HEADWATER_PROFILE", None)
    if show_defaults:
        for key, field in setting_fields().items():
            if key not in values and key != "HEADWATER_PROFILE":
                values[key] = ("" if field.default is None else field.default, DEFAULT)
    for key, (value, source) in values.items():
        suffix = f" (from {source})" if show_sources else ""
        typer.echo(f"{key}={shown(key, value)}{suffix}")
    try:
        get_current_settings()
    except SettingsError as exc:
        fail(str(exc))


def _split(assignment: str) -> tuple[str, str]:
    key, sep, value = assignment.partition("=")
    if not sep:
        fail(f"Expected KEY=VALUE, got {assignment!r}.")
    return _checked_key(key), value


def _checked_key(key: str) -> str:
    env = normalize_key(key)
    if env in NOT_IN_PROFILE:
        fail(f"{env} cannot be set in a profile, because it locates the profiles; set it in "
             "the environment instead.")
    if env not in setting_fields() and not is_logging_override(env):
        fail(unknown_setting_message(env))
    return env


def _save(updates: dict[str, str], removals: list[str]) -> str:
    collected = collect_values()
    collection = load_profiles(collected.profiles_path)
    profile = collection.get(collected.profile)
    new = {k: v for k, v in {**profile.settings, **updates}.items() if k not in removals}
    checked = collect_values(profile_values=new)
    try:
        settings = validate(checked.values)
        if any(is_logging_override(k) for k in updates):
            from headwater._private.logging_config import build_logging_config

            build_logging_config(settings)
    except SettingsError as exc:
        fail(str(exc))
    profile.settings = new
    save_profiles(collection, collected.profiles_path)
    for key in updates:
        if checked.values[key][1] == ENVIRONMENT:
            typer.secho(f"Warning: {key} is also set in the environment, which takes "
                        "precedence over the profile.", err=True, fg=typer.colors.YELLOW)
    return profile.name


@config_app.command("set")
def set_(settings: Annotated[list[str], typer.Argument(
        help="KEY=VALUE pairs, e.g. HEADWATER_LOGGING_LEVEL=DEBUG.")]) -> None:
    """Set settings in the active profile (validated before saving)."""
    try:
        updates = dict(_split(item) for item in settings)
        name = _save(updates, [])
    except SettingsError as exc:
        fail(str(exc))
    for key, value in updates.items():
        typer.echo(f"Set {key}={shown(key, value)} in profile {name!r}.")


@config_app.command("unset")
def unset(keys: Annotated[list[str], typer.Argument(
        help="Setting names, e.g. HEADWATER_LOGGING_LEVEL.")]) -> None:
    """Remove settings from the active profile."""
    try:
        collected = collect_values()
        current = load_profiles(collected.profiles_path).get(collected.profile).settings
        names = [normalize_key(key) for key in keys]
        for name in names:
            if name not in current:
                fail(f"{name} is not set in profile {collected.profile!r}.")
        profile = _save({}, names)
    except SettingsError as exc:
        fail(str(exc))
    for name in names:
        typer.echo(f"Unset {name} in profile {profile!r}.")
