"""The settings tree: one pydantic-settings model, nested by topic.

Every leaf has one environment name, ``HEADWATER_`` + its path joined by
``_`` and upper-cased (``logging.to_api.batch_size`` ->
``HEADWATER_LOGGING_TO_API_BATCH_SIZE``). Values are not read here: the
loader in :mod:`headwater._private.settings.sources` gathers them from the
overrides, the environment, ``.env`` and the active profile and validates
them with these models.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
WhenMissingFlow = Literal["warn", "error", "ignore"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class APISettings(_Section):
    """Where the orchestration API lives, and how to reach it."""

    url: str | None = Field(
        default=None, description="URL of the headwater API; unset: embedded mode."
    )
    key: SecretStr | None = Field(default=None, description="API key sent to the API (secret).")
    enable_recording: bool = Field(
        default=True,
        description="Record runs, states and logs: to HEADWATER_API_URL, or to the local "
        "SQLite database under HEADWATER_HOME. false: nothing is recorded (fastest).",
    )
    database_connection_url: SecretStr | None = Field(
        default=None,
        description="Database URL of the server; unset: SQLite under HEADWATER_HOME "
        "(secret: may hold a password).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # "localhost:4200/api" would be read by httpx as a URL of scheme
        # "localhost": every request would fail far from the setting.
        if value is None or not value.strip():
            return None
        text = value.strip()
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
            raise ValueError("not an http(s) URL: use the form http://HOST:PORT/api "
                             "(e.g. http://127.0.0.1:4200/api)")
        return text


class ServerSettings(_Section):
    """Settings of the headwater server process."""

    api_key: SecretStr | None = Field(
        default=None, description="API key the server requires from clients (secret)."
    )
    max_body_size: int = Field(
        default=20 * 1024 * 1024, ge=1024,
        description="Largest request body the server accepts, in bytes (larger: 413).",
    )

    @field_validator("api_key")
    @classmethod
    def _no_empty_key(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty key would silently turn authentication off while the
        # operator believes it is on: refuse it, and say what to do instead.
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("HEADWATER_SERVER_API_KEY is set but empty: set a non-empty key, "
                             "or unset it to run without authentication")
        return value


class LoggingToAPISettings(_Section):
    """How run logs are shipped by the API log handler."""

    enabled: bool = Field(default=True, description="Ship run logs to the API (or the log sink).")
    batch_interval: float = Field(
        default=2.0, gt=0, description="Seconds between shipments of queued log records."
    )
    batch_size: int = Field(
        default=4_000_000,
        ge=1,
        description="Ship as soon as this many bytes of records are queued.",
    )
    max_log_size: int = Field(
        default=1_000_000,
        ge=64,
        description="Longest message in bytes; longer ones are truncated with a marker.",
    )
    when_missing_flow: WhenMissingFlow = Field(
        default="warn",
        description="What a record outside any flow or task run does: warn, error or ignore.",
    )

    @field_validator("when_missing_flow", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class LoggingSettings(_Section):
    """Logging settings; more keys of ``logging.yml`` can be overridden, see ``overrides``."""

    level: LogLevel = Field(default="INFO", description="Level of the headwater loggers.")
    settings_path: Path | None = Field(
        default=None,
        description="A logging.yml merged over the packaged default; unset: "
        "HEADWATER_HOME/logging.yml when it exists.",
    )
    extra_loggers: tuple[str, ...] = Field(
        default=(),
        description="Loggers whose records inside runs are also shipped to the API "
        "(comma list or JSON list).",
    )
    log_prints: bool = Field(
        default=False, description="Default of log_prints for flows and tasks."
    )
    colors: bool = Field(
        default=True, description="Colour console logs when a terminal is attached."
    )
    to_api: LoggingToAPISettings = LoggingToAPISettings()
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="HEADWATER_LOGGING_<PATH> keys of logging.yml "
        "(suffix -> raw value), applied by the logging setup.",
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("extra_loggers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [name.strip() for name in text.split(",") if name.strip()]
        return value


class TaskRunnerSettings(_Section):
    """Defaults of the task runners."""

    thread_pool_max_workers: int | None = Field(
        default=None,
        ge=1,
        description="Threads of the default ThreadPoolTaskRunner; unset: automatic.",
    )


class TasksSettings(_Section):
    """Defaults of task runs."""

    refresh_cache: bool = Field(
        default=False, description="Ignore cached results and run every task."
    )


class ResultsSettings(_Section):
    """Defaults of result persistence."""

    persist_by_default: bool = Field(
        default=False, description="Persist results unless told not to."
    )


class ConcurrencySettings(_Section):
    """Concurrency limits shared through the API."""

    lease_duration: float = Field(
        default=30.0,
        gt=0,
        le=86_400,  # the API grants leases of a day at most
        description="Seconds slots held through the API last unless renewed; a live process "
        "renews them, a killed one loses them after this long (at most a day).",
    )


class FlowRunSettings(_Section):
    """How a process running flows hears about requests made through the API, and what a
    flow run keeps of its children."""

    result_budget: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Bytes of its child runs' results a flow run keeps (estimated, not "
        "pickled) so that a flow returning None hands back child states whose result() "
        "works, as in Prefect 2; results beyond it are freed when their run finishes and "
        "raise MissingResult. 0: keep none.",
    )

    watch_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between two looks at the recorded state of this process's "
        "active flow runs, to notice a cancel or a resume asked for by another process.",
    )
    heartbeat_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Seconds between two heartbeats of a running flow run; a run that misses "
        "4 in a row is marked Crashed by the zombie check. 0 turns heartbeats off.",
    )
    version_lock: bool = Field(
        default=False,
        description="Version locking for flows that do not say (the flow option "
        "version_lock): each task run of a flow run starts once and only once; a second "
        "start (a Dask worker running it again) is refused. A deployment's runs follow "
        "its own switch (headwater deployment set NAME --version-lock).",
    )


class LazarusSettings(_Section):
    """Rescheduling deployments' runs that crashed because their process vanished."""

    max_attempts: int = Field(
        default=3, ge=0,
        description="Times a deployment's run that the zombie check found crashed is "
        "rescheduled (0: never).")


class WorkerSettings(_Section):
    """How workers poll for runs and stop them."""

    heartbeat_seconds: float = Field(
        default=30.0, gt=0, description="Seconds between two heartbeats of a worker.")
    query_seconds: float = Field(
        default=10.0, gt=0, description="Seconds between two polls of a worker for runs.")
    cancel_grace_seconds: float = Field(
        default=30.0, ge=0,
        description="Seconds a worker waits after SIGTERM to a cancelled run's process group "
        "before it sends SIGKILL.")


class RunnerSettings(_Section):
    """The process that serves deployments (``serve``): how often it looks for runs."""

    poll_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds between two looks for due runs of the deployments a serve "
        "process runs (each look also schedules their next runs).",
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Seconds a stopping serve process gives its running flow runs to end "
        "after passing them SIGTERM, before it kills them and marks them Crashed.",
    )

class SchedulerSettings(_Section):
    """The scheduler service: how often it runs and how far ahead it creates runs."""

    loop_seconds: float = Field(
        default=60.0, gt=0, description="Seconds between two loops of the scheduler service."
    )
    max_runs: int = Field(
        default=100, ge=1, description="At most this many runs created per schedule and loop."
    )
    min_runs: int = Field(
        default=3, ge=0,
        description="At least this many future runs per schedule, even past the minimum "
        "scheduled time (but not past the maximum).",
    )
    max_scheduled_time: timedelta = Field(
        default=timedelta(days=100),
        description="Runs are never created further ahead than this (seconds, or an ISO "
        "8601 duration such as P100D).",
    )
    min_scheduled_time: timedelta = Field(
        default=timedelta(hours=1),
        description="Every run up to this far ahead is created (seconds, or an ISO 8601 "
        "duration such as PT1H).",
    )
    late_after_seconds: float = Field(
        default=15.0, ge=0,
        description="A Scheduled run this many seconds past its time is marked Late.",
    )

    @field_validator("max_scheduled_time", "min_scheduled_time", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        # The environment gives strings: "3600" is seconds, as in Prefect 2.
        if isinstance(value, str):
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                return value.strip()
        return value

    # Each bound is checked against the one declared before it, so an error
    # names the one setting at fault.
    @field_validator("min_runs")
    @classmethod
    def _min_runs_within_max(cls, value: int, info: ValidationInfo) -> int:
        largest = info.data.get("max_runs")
        if largest is not None and value > largest:
            raise ValueError(f"must be at most HEADWATER_SCHEDULER_MAX_RUNS ({largest})")
        return value

    @field_validator("min_scheduled_time")
    @classmethod
    def _min_time_within_max(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must be 0 or more")
        largest = info.data.get("max_scheduled_time")
        if largest is not None and value > largest:
            raise ValueError(
                f"must be at most HEADWATER_SCHEDULER_MAX_SCHEDULED_TIME ({largest})")
        return value


def default_home() -> Path:
    """Return the default ``HEADWATER_HOME``: ``~/.headwater``."""
    return Path("~/.headwater").expanduser()


class Settings(BaseSettings):
    """All of headwater's settings, read through `get_current_settings`.

    Build it with `headwater.settings.get_current_settings`, which reads
    (highest first) ``temporary_settings`` overrides, the environment,
    ``.env``, the active profile in ``HEADWATER_HOME/profiles.toml`` and the
    defaults. ``Settings()`` alone holds the defaults only.

    Attributes:
        home: ``HEADWATER_HOME``, where profiles, logs and results live.
        profiles_path: ``HEADWATER_PROFILES_PATH``; unset: ``home/profiles.toml``.
        local_storage_path: ``HEADWATER_LOCAL_STORAGE_PATH``; unset: ``home/storage``.
    """

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home, description="headwater's home folder.")
    profile: str | None = Field(
        default=None,
        description="Name of the profile to use; unset: the active profile of profiles.toml.",
    )
    profiles_path: Path | None = Field(
        default=None, description="The profiles file; unset: HEADWATER_HOME/profiles.toml."
    )
    local_storage_path: Path | None = Field(
        default=None, description="Folder of persisted results; unset: HEADWATER_HOME/storage."
    )
    api: APISettings = APISettings()
    server: ServerSettings = ServerSettings()
    logging: LoggingSettings = LoggingSettings()
    task_runner: TaskRunnerSettings = TaskRunnerSettings()
    tasks: TasksSettings = TasksSettings()
    results: ResultsSettings = ResultsSettings()
    concurrency: ConcurrencySettings = ConcurrencySettings()
    flow_run: FlowRunSettings = FlowRunSettings()
    worker: WorkerSettings = WorkerSettings()
    lazarus: LazarusSettings = LazarusSettings()
    runner: RunnerSettings = RunnerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        # Paths that default to a place under home are resolved once, here,
        # so every reader sees the same folder.
        home = self.home.expanduser()
        object.__setattr__(self, "home", home)
        if self.profiles_path is None:
            object.__setattr__(self, "profiles_path", home / "profiles.toml")
        if self.local_storage_path is None:
            object.__setattr__(self, "local_storage_path", home / "storage")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Take values from the constructor only: the loader merges the sources itself."""
        return (init_settings,)

    def logging_settings_path(self) -> Path | None:
        """Return the user's logging.yml: the setting, else ``home/logging.yml`` if it exists."""
        if self.logging.settings_path is not None:
            return self.logging.settings_path.expanduser()
        candidate = self.home / "logging.yml"
        return candidate if candidate.is_file() else None
