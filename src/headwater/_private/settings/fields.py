"""The catalogue of settings: each leaf of the tree with its environment name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from headwater._private.settings.models import Settings

PREFIX = "HEADWATER_"
LOGGING_PREFIX = "HEADWATER_LOGGING_"
# Settings that locate the profiles file: they cannot live in a profile.
NOT_IN_PROFILE = frozenset({"HEADWATER_HOME", "HEADWATER_PROFILE", "HEADWATER_PROFILES_PATH"})
# Top-level keys of a logging dictConfig: HEADWATER_LOGGING_<KEY>_... overrides logging.yml.
DICTCONFIG_KEYS = ("formatters", "filters", "handlers", "loggers", "root",
                   "disable_existing_loggers", "incremental", "version")


@dataclass(frozen=True)
class SettingField:
    """One leaf setting.

    Attributes:
        env: Its environment name, e.g. ``HEADWATER_LOGGING_LEVEL``.
        path: Its attribute path in :class:`Settings`, e.g. ``("logging", "level")``.
        secret: True if its value must never be printed.
        description: What it does.
        default: Its default value, or None when computed.
    """

    env: str
    path: tuple[str, ...]
    secret: bool
    description: str
    default: Any


def _leaves(model: type[BaseModel], path: tuple[str, ...]) -> list[SettingField]:
    found: list[SettingField] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        here = (*path, name)
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            found.extend(_leaves(sub, here))
        elif here != ("logging", "overrides"):
            found.append(_field(here, info))
    return found


def _field(path: tuple[str, ...], info: FieldInfo) -> SettingField:
    default = None if info.default is PydanticUndefined else info.default
    secret = "SecretStr" in repr(info.annotation) or info.annotation is SecretStr
    return SettingField(PREFIX + "_".join(path).upper(), path, secret,
                        info.description or "", default)


@cache
def setting_fields() -> dict[str, SettingField]:
    """Return every leaf setting, keyed by environment name, in declaration order."""
    return {f.env: f for f in _leaves(Settings, ())}


@cache
def fields_by_path() -> dict[tuple[str, ...], SettingField]:
    """Return every leaf setting keyed by its attribute path."""
    return {f.path: f for f in setting_fields().values()}


def is_logging_override(env: str) -> bool:
    """Return True for ``HEADWATER_LOGGING_<dictConfig key>_...`` names."""
    if not env.startswith(LOGGING_PREFIX) or env in setting_fields():
        return False
    rest = env[len(LOGGING_PREFIX):].lower()
    return any(rest == key or rest.startswith(key + "_") for key in DICTCONFIG_KEYS)


def normalize_key(key: str) -> str:
    """Turn ``logging.level`` or ``HEADWATER_LOGGING_LEVEL`` into the environment name."""
    name = key.strip().replace(".", "_").replace("-", "_").upper()
    return name if name.startswith(PREFIX) else PREFIX + name


def closest_settings(env: str, n: int = 3) -> list[str]:
    """Return the setting names closest to a misspelt one."""
    return difflib.get_close_matches(env, list(setting_fields()), n=n, cutoff=0.6)


def unknown_setting_message(env: str) -> str:
    """Return the error message for a name that is not a setting."""
    close = closest_settings(env)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return (f"Unknown setting {env}.{hint} Run `headwater config view --show-defaults` "
            "to list every setting.")
