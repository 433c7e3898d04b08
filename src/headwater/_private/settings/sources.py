"""Gather settings from their sources and validate them into a :class:`Settings`.

Sources, highest first: explicit overrides (``temporary_settings``), the
environment, ``.env`` in the working directory, the active profile, defaults.
Every source is a flat mapping of environment names to values; the loader
merges them, keeps where each value came from, and builds the nested tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from headwater._private.settings.errors import SettingsError
from headwater._private.settings.fields import (
    LOGGING_PREFIX,
    PREFIX,
    fields_by_path,
    setting_fields,
)
from headwater._private.settings.models import Settings, default_home
from headwater._private.settings.profiles import load_profiles

OVERRIDE = "temporary_settings"
ENVIRONMENT = "environment"
DOTENV = ".env"
DEFAULT = "default"


class _RestoreDefault:
    """Marks an override that drops the setting back to its default."""

    def __repr__(self) -> str:
        return "RESTORE_DEFAULT"


RESTORE_DEFAULT: Any = _RestoreDefault()


@dataclass(frozen=True)
class LoadedSettings:
    """Validated settings together with where each value came from.

    Attributes:
        settings: The validated settings.
        values: Environment name -> (raw value, source label) for every value
            not taken from the defaults.
        profile: The name of the active profile.
        profiles_path: The profiles file that was read.
    """

    settings: Settings
    values: dict[str, tuple[Any, str]]
    profile: str
    profiles_path: Path


def profile_label(name: str) -> str:
    """Return the source label of values from profile ``name``."""
    return f"profile {name!r}"


def read_dotenv(cwd: Path | None = None) -> dict[str, str]:
    """Return the ``HEADWATER_*`` entries of ``.env`` in ``cwd`` (default: the working dir)."""
    path = (cwd or Path.cwd()) / ".env"
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items()
            if k.startswith(PREFIX) and v is not None}


def _first(name: str, *layers: Mapping[str, Any]) -> Any:
    for layer in layers:
        value = layer.get(name)
        if value is not None and value is not RESTORE_DEFAULT:
            return value
    return None


def _locate(*layers: Mapping[str, Any]) -> tuple[Path, str | None]:
    # Home, profile and profiles file locate the profile: never read from it.
    home = Path(str(_first("HEADWATER_HOME", *layers) or default_home())).expanduser()
    path = _first("HEADWATER_PROFILES_PATH", *layers) or home / "profiles.toml"
    chosen = _first("HEADWATER_PROFILE", *layers)
    return Path(str(path)).expanduser(), None if chosen is None else str(chosen)


def locate_profiles(environ: Mapping[str, str] | None = None,
                    cwd: Path | None = None) -> tuple[Path, str | None]:
    """Return the profiles file and the profile chosen by ``HEADWATER_PROFILE`` (if any).

    Reads overrides, the environment and ``.env`` only, so it works even when
    the profile itself is broken.
    """
    from headwater._private.settings.current import current_overrides

    env = os.environ if environ is None else environ
    return _locate(current_overrides(), env, read_dotenv(cwd))


@dataclass(frozen=True)
class CollectedValues:
    """Raw values from every source, merged, not yet validated.

    Attributes:
        values: Environment name -> (raw value, source label).
        profile: The name of the active profile.
        profiles_path: The profiles file that was read.
    """

    values: dict[str, tuple[Any, str]]
    profile: str
    profiles_path: Path


def collect_values(overrides: Mapping[str, Any] | None = None, *,
                   environ: Mapping[str, str] | None = None, cwd: Path | None = None,
                   profile_values: Mapping[str, Any] | None = None) -> CollectedValues:
    """Read every source and merge the values, highest priority last.

    Args:
        overrides: Environment names to values, highest priority;
            ``RESTORE_DEFAULT`` drops a setting back to its default.
        environ: The environment (default: ``os.environ``).
        cwd: Where to look for ``.env`` (default: the working directory).
        profile_values: Use these instead of the active profile's values
            (to check an edit before saving it).

    Raises:
        SettingsError: The profiles file is invalid or the active profile does not exist.
    """
    overrides = dict(overrides or {})
    env_source = os.environ if environ is None else environ
    env = {k: v for k, v in env_source.items() if k.startswith(PREFIX)}
    dotenv = read_dotenv(cwd)
    profiles_path, chosen = _locate(overrides, env, dotenv)
    collection = load_profiles(profiles_path)
    name = chosen or collection.active
    profile = collection.get(name).settings if profile_values is None else profile_values
    values: dict[str, tuple[Any, str]] = {}
    for label, layer in ((profile_label(name), profile), (DOTENV, dotenv),
                         (ENVIRONMENT, env), (OVERRIDE, overrides)):
        for key, value in layer.items():
            if value is RESTORE_DEFAULT:
                values.pop(key, None)
            else:
                values[key] = (value, label)
    return CollectedValues(values, name, profiles_path)


def load_settings(overrides: Mapping[str, Any] | None = None, *,
                  environ: Mapping[str, str] | None = None,
                  cwd: Path | None = None) -> LoadedSettings:
    """Read every source and return validated settings.

    Args:
        overrides: Environment names to values, highest priority;
            ``RESTORE_DEFAULT`` drops a setting back to its default.
        environ: The environment (default: ``os.environ``).
        cwd: Where to look for ``.env`` (default: the working directory).

    Raises:
        SettingsError: A value is invalid, or the active profile does not exist.
    """
    collected = collect_values(overrides, environ=environ, cwd=cwd)
    return LoadedSettings(validate(collected.values), collected.values, collected.profile,
                          collected.profiles_path)


def nest(values: Mapping[str, tuple[Any, str]]) -> dict[str, Any]:
    """Turn flat environment names into the nested input of :class:`Settings`."""
    fields = setting_fields()
    tree: dict[str, Any] = {}
    overrides: dict[str, str] = {}
    for key, (value, _) in values.items():
        known = fields.get(key)
        if known is not None:
            node = tree
            for part in known.path[:-1]:
                node = node.setdefault(part, {})
            node[known.path[-1]] = value
        elif key.startswith(LOGGING_PREFIX):
            overrides[key[len(LOGGING_PREFIX):]] = str(value)
        # Other HEADWATER_* names are not settings: ignored, like Prefect does.
    if overrides:
        tree.setdefault("logging", {})["overrides"] = overrides
    return tree


def validate(values: Mapping[str, tuple[Any, str]]) -> Settings:
    """Validate merged values into :class:`Settings`.

    Raises:
        SettingsError: Naming the setting, the value, its source and what is allowed.
    """
    try:
        return Settings.model_validate(nest(values))
    except ValidationError as exc:
        raise SettingsError(_explain(exc, values)) from None


def _explain(exc: ValidationError, values: Mapping[str, tuple[Any, str]]) -> str:
    by_path = fields_by_path()
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        field = next((by_path[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in by_path),
                     None)
        env = field.env if field is not None else PREFIX + "_".join(loc).upper()
        raw, source = values.get(env, (error.get("input"), DEFAULT))
        shown = "'********'" if field is not None and field.secret else repr(raw)
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"Invalid setting {env}={shown} (from {source}): {message}.")
    return " ".join(lines)
