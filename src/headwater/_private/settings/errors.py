"""The error raised for a bad setting (defined in headwater.exceptions)."""

from headwater.exceptions import SettingsError

__all__ = ["SettingsError"]
