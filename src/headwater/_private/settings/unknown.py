"""A ``HEADWATER_*`` environment variable that is no setting: one warning, with the closest.

Prefect 2 ignores such names silently, so ``HEADWATER_LOGGIN_LEVEL=DEBUG``
would change nothing and say nothing. headwater still ignores them (a
script that sets a name this version does not know keeps working) but
logs one warning per name and process, naming the closest setting, when
the settings are first read (at the first run or command-line call; never
on ``import headwater``). ``HEADWATER_LOGGING_*`` names that are not
settings are ``logging.yml`` overrides, checked with the logging
configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from headwater._private.settings.fields import LOGGING_PREFIX, PREFIX, setting_fields

__all__ = ["NOT_SETTINGS", "NOT_SETTINGS_PREFIXES", "warn_unknown_names"]

#: ``HEADWATER_*`` names read outside the settings: not reported.
NOT_SETTINGS = frozenset({
    "HEADWATER_DEBUG",  # the command line's tracebacks
    "HEADWATER_PROFILE", "HEADWATER_PROFILES_PATH",  # where the profile is
    "HEADWATER_CONFORMANCE_VENV",  # headwater's own tests
})
#: Prefixes of names headwater's own tests and CI use.
NOT_SETTINGS_PREFIXES = ("HEADWATER_TEST_", "HEADWATER_CI_")

_warned: set[str] = set()
_logger = logging.getLogger("headwater.settings")


def warn_unknown_names(values: Mapping[str, tuple[Any, str]], sources: frozenset[str]) -> None:
    """Warn once per name about values from ``sources`` whose name is no setting."""
    fields = setting_fields()
    for name, (_, source) in values.items():
        if (source not in sources or name in fields or name in NOT_SETTINGS
                or name in _warned or name.startswith((LOGGING_PREFIX, *NOT_SETTINGS_PREFIXES))
                or not name.startswith(PREFIX)):
            continue
        _warned.add(name)
        from headwater._private.did_you_mean import suggestion

        _logger.warning("%s (from the %s) is not a headwater setting and is ignored%s "
                        "('headwater config view --show-defaults' lists every setting).",
                        name, source, suggestion(name, fields))
