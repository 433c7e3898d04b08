"""headwater's settings: models, sources (environment, .env, profiles) and the cache.

The public face is :mod:`headwater.settings`.
"""

from headwater._private.settings.current import (
    get_current_loaded,
    get_current_settings,
    invalidate_settings_cache,
    temporary_settings,
)
from headwater._private.settings.errors import SettingsError
from headwater._private.settings.fields import SettingField, setting_fields
from headwater._private.settings.models import Settings
from headwater._private.settings.profiles import (
    Profile,
    ProfilesCollection,
    load_profiles,
    save_profiles,
)
from headwater._private.settings.sources import (
    CollectedValues,
    LoadedSettings,
    collect_values,
    load_settings,
)

__all__ = [
    "CollectedValues",
    "LoadedSettings",
    "Profile",
    "ProfilesCollection",
    "SettingField",
    "Settings",
    "SettingsError",
    "collect_values",
    "get_current_loaded",
    "get_current_settings",
    "invalidate_settings_cache",
    "load_profiles",
    "load_settings",
    "save_profiles",
    "setting_fields",
    "temporary_settings",
]
