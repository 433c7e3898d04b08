"""The target: where this process's records, limits, control messages and reads go.

"Embedded database or an API server?" is answered here, once per settings
object, and everything else asks the answer: the recorder (which transport),
the concurrency registry (which backend), the flow-run watcher (which
reader), remote cancel and resume (which client) and the CLI (what to say).

- ``HEADWATER_API_URL`` set: the API server at that URL (``kind == "api"``).
- Otherwise embedded: the local database, ``HEADWATER_HOME/headwater.db``
  or ``HEADWATER_API_DATABASE_CONNECTION_URL``. On SQLite (``sqlite`` is
  set) the runtime reads and writes the file directly through the storage
  core; on another database it goes through the API app in process.

Recording (``HEADWATER_API_ENABLE_RECORDING``) says whether runs are
recorded at all; a target is resolved either way, since the CLI and remote
control read from it whatever this process records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from headwater._private.settings.models import Settings
    from headwater.client import HeadwaterClient

from headwater._private.storage.sqlite_schema import DATABASE_FILE, default_database_url

__all__ = ["Target", "current_target", "sqlite_path", "target_from_settings"]


def sqlite_path(home: Path, connection_url: str | None) -> Path | None:
    """The SQLite file embedded mode uses, or None when the database is not SQLite (or memory)."""
    if connection_url is None:
        return home / DATABASE_FILE
    scheme, sep, rest = connection_url.partition(":///")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest.split("?")[0]
    return Path(path) if path and path != ":memory:" else None


@dataclass(frozen=True)
class Target:
    """One place runs are recorded in, as the settings name it (immutable, hashable).

    Attributes:
        recording: Whether this process records its runs.
        api_url: The server's URL; None in embedded mode.
        api_key: The key sent to that server.
        home: ``HEADWATER_HOME``.
        database_url: The embedded database's URL when set in the settings.
        sqlite: The embedded SQLite file, when the embedded database is one.
        lease_duration: Seconds a concurrency lease lasts unless renewed.
        watch_interval: Seconds between two looks at this process's flow runs.
        heartbeat_interval: Seconds between two heartbeats of a running flow run (0: none).
    """

    recording: bool
    api_url: str | None
    api_key: str | None
    home: Path
    database_url: str | None
    sqlite: Path | None
    lease_duration: float
    watch_interval: float
    heartbeat_interval: float = 30.0

    @property
    def kind(self) -> Literal["api", "embedded"]:
        """``"api"`` for a server, ``"embedded"`` for the local database."""
        return "api" if self.api_url else "embedded"

    @property
    def shares_limits(self) -> bool:
        """Whether concurrency limits live at the target (else in this process's file)."""
        return bool(self.api_url) or self.recording

    @property
    def embedded_database_url(self) -> str:
        """The SQLAlchemy URL of the embedded database (the in-process app's)."""
        return self.database_url or default_database_url(self.home)

    def where(self) -> str:
        """Where runs are, in words, for messages: "the API at ..." or "the local database ..."."""
        if self.api_url:
            return f"the API at {self.api_url}"
        return f"the local database under {self.home}"

    def client(self, **options: Any) -> HeadwaterClient:
        """A new API client for this target (a server, or the API app in process).

        Build it on the loop that will use it: its connections belong to it.
        """
        if self.api_url:
            from headwater.client import HeadwaterClient

            return HeadwaterClient(self.api_url, self.api_key, **options)
        from headwater.client._factory import embedded_client

        return embedded_client(self.embedded_database_url, use_settings=False, **options)


def target_from_settings(settings: Settings) -> Target:
    """The target ``settings`` name."""
    api = settings.api
    key = api.key.get_secret_value() if api.key is not None else None
    secret = api.database_connection_url
    database_url = (secret.get_secret_value() or None) if secret is not None else None
    return Target(
        recording=api.enable_recording, api_url=api.url or None, api_key=key,
        home=settings.home, database_url=database_url,
        sqlite=None if api.url else sqlite_path(settings.home, database_url),
        lease_duration=settings.concurrency.lease_duration,
        watch_interval=settings.flow_run.watch_interval,
        heartbeat_interval=settings.flow_run.heartbeat_seconds)


_last: tuple[Any, Target] | None = None  # (settings, target): settings objects are frozen


def current_target() -> Target:
    """The target of the current settings (resolved once per settings object)."""
    global _last
    from headwater._private.settings import get_current_settings

    settings = get_current_settings()
    last = _last
    if last is not None and last[0] is settings:
        return last[1]
    target = target_from_settings(settings)
    _last = (settings, target)
    return target
