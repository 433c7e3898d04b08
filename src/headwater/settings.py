"""headwater's settings: one tree, read one way everywhere.

Values come from, highest first: :func:`temporary_settings` overrides, the
environment (``HEADWATER_*``), a ``.env`` file in the working directory, the
active profile in ``HEADWATER_HOME/profiles.toml``, and the defaults. Each
setting's environment name is ``HEADWATER_`` plus its path joined by ``_``:
``get_current_settings().logging.to_api.batch_size`` is
``HEADWATER_LOGGING_TO_API_BATCH_SIZE``.

Example:
    >>> from headwater.settings import get_current_settings, temporary_settings
    >>> with temporary_settings(HEADWATER_LOGGING_LEVEL="DEBUG"):
    ...     get_current_settings().logging.level
    'DEBUG'
"""

from headwater._private.settings import (
    Profile,
    ProfilesCollection,
    Settings,
    SettingsError,
    get_current_settings,
    load_profiles,
    save_profiles,
    temporary_settings,
)
from headwater._private.settings.models import (
    APISettings,
    LoggingSettings,
    LoggingToAPISettings,
    ResultsSettings,
    SchedulerSettings,
    ServerSettings,
    TaskRunnerSettings,
    TasksSettings,
)

__all__ = [
    "APISettings",
    "LoggingSettings",
    "LoggingToAPISettings",
    "Profile",
    "ProfilesCollection",
    "ResultsSettings",
    "SchedulerSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "TaskRunnerSettings",
    "TasksSettings",
    "get_current_settings",
    "load_profiles",
    "save_profiles",
    "temporary_settings",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("headwater._private"):
        try:
            _obj.__module__ = __name__
        except (AttributeError, TypeError):
            pass
del _name, _obj
