"""Profiles: named sets of settings in ``HEADWATER_HOME/profiles.toml``.

The file looks like this (values are stored as strings, as in the environment)::

    active = "default"

    [profiles.default]
    HEADWATER_LOGGING_LEVEL = "DEBUG"

    [profiles.ci]
    HEADWATER_API_URL = "http://localhost:4200/api"

It is written atomically with 0600 permissions, since it may hold API keys.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from headwater._private.files import write_atomic
from headwater._private.settings.errors import SettingsError

DEFAULT_PROFILE = "default"


@dataclass
class Profile:
    """A named set of settings.

    Attributes:
        name: The profile's name.
        settings: Environment names to values, e.g. ``{"HEADWATER_LOGGING_LEVEL": "DEBUG"}``.
    """

    name: str
    settings: dict[str, str] = field(default_factory=dict)


@dataclass
class ProfilesCollection:
    """The content of a profiles file.

    Attributes:
        active: Name of the active profile.
        profiles: The profiles by name.
    """

    active: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(
        default_factory=lambda: {DEFAULT_PROFILE: Profile(DEFAULT_PROFILE)})

    def get(self, name: str) -> Profile:
        """Return the profile called ``name``.

        Raises:
            SettingsError: There is no such profile.
        """
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise SettingsError(
                f"Profile {name!r} does not exist (profiles: {known}). "
                f"Create it with `headwater profile create {name}`."
            ) from None


def load_profiles(path: Path) -> ProfilesCollection:
    """Read a profiles file; a missing file holds only an empty ``default`` profile.

    Raises:
        SettingsError: The file is not valid TOML or not shaped like a profiles file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ProfilesCollection()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"The profiles file {path} is not valid TOML: {exc}.") from None
    return _collection(data, path)


def _collection(data: dict[str, Any], path: Path) -> ProfilesCollection:
    raw = data.get("profiles", {})
    active = data.get("active", DEFAULT_PROFILE)
    if not isinstance(raw, dict) or not isinstance(active, str):
        raise SettingsError(f"The profiles file {path} must have `active = \"name\"` and "
                            "[profiles.<name>] tables.")
    profiles = {}
    for name, values in raw.items():
        if not isinstance(values, dict):
            raise SettingsError(f"[profiles.{name}] in {path} must be a table of settings.")
        profiles[name] = Profile(name, {k: _as_text(v) for k, v in values.items()})
    if DEFAULT_PROFILE not in profiles and not profiles:
        profiles[DEFAULT_PROFILE] = Profile(DEFAULT_PROFILE)
    return ProfilesCollection(active, profiles)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def dump_profiles(collection: ProfilesCollection) -> str:
    """Return the TOML text of a profiles collection."""
    lines = [f"active = {json.dumps(collection.active)}"]
    for profile in collection.profiles.values():
        bare = re.fullmatch(r"[A-Za-z0-9_-]+", profile.name)
        lines += ["", f"[profiles.{profile.name if bare else json.dumps(profile.name)}]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in profile.settings.items()]
    return "\n".join(lines) + "\n"


def save_profiles(collection: ProfilesCollection, path: Path) -> None:
    """Write a profiles file atomically, readable by its owner only (0600)."""
    write_atomic(path, dump_profiles(collection))
    from headwater._private.settings.current import invalidate_settings_cache

    invalidate_settings_cache()
