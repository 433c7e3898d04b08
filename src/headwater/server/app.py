"""The application factory: ``create_app()``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from headwater._version import __version__
from headwater.server.database.engine import Database, DatabaseBusyError, default_database_url
from headwater.server.middleware import (
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    LoopbackHostMiddleware,
    is_loopback,
)

__all__ = ["DEFAULT_MAX_BODY_SIZE", "create_app", "resolve_database_url"]

logger = logging.getLogger("headwater.server")

#: Largest request body accepted, in bytes, unless configured otherwise.
DEFAULT_MAX_BODY_SIZE = 20 * 1024 * 1024


def resolve_database_url(database_url: str | None = None) -> str:
    """The database to use: the argument, else ``HEADWATER_API_DATABASE_CONNECTION_URL``,
    else SQLite at ``HEADWATER_HOME/headwater.db``."""
    if database_url:
        return database_url
    from headwater.settings import get_current_settings

    settings = get_current_settings()
    secret = settings.api.database_connection_url
    if secret is not None and secret.get_secret_value():
        return secret.get_secret_value()
    return default_database_url(settings.home)


def _settings_api_key() -> str | None:
    from headwater.settings import get_current_settings

    secret = get_current_settings().server.api_key
    return secret.get_secret_value() if secret is not None else None


def _settings_max_body_size() -> int:
    from headwater.settings import get_current_settings

    return get_current_settings().server.max_body_size


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    from headwater.server.services.deployments import ArchivedVersionError
    from headwater.server.services.flows_and_runs import UnknownReferenceError
    from headwater.server.services.parameter_schema import ParameterError
    from headwater.server.services.records import UnknownRunsError

    async def unknown_reference(_: Request, exc: Exception) -> JSONResponse:
        return _error(422, str(exc))

    async def archived(_: Request, exc: Exception) -> JSONResponse:
        return _error(409, str(exc))

    async def busy(_: Request, exc: Exception) -> JSONResponse:
        return _error(503, str(exc))

    async def database_error(_: Request, exc: Exception) -> JSONResponse:
        # SQLSTATE class 22 is "data exception": a value the database refuses
        # (PostgreSQL: a NUL character in text or JSON, NaN in JSON...).
        orig = getattr(exc, "orig", None)
        state = getattr(orig, "sqlstate", None) or getattr(
            getattr(orig, "__cause__", None), "sqlstate", None)
        first_line = (str(orig).splitlines() or [""])[0]
        if isinstance(exc, sa_exc.DataError) or (state or "").startswith("22"):
            return _error(422, f"The database refused a value: {first_line}")
        logger.error("Database error", exc_info=exc)
        return _error(500, "Internal database error; see the server log.")

    async def integrity_error(_: Request, exc: Exception) -> JSONResponse:
        orig = getattr(exc, "orig", exc)
        return _error(409, f"The request conflicts with stored data: {type(orig).__name__}")

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own handler echoes each error's input, which may be huge,
        # or not JSON at all (inf, NaN): 500. Report where and what, not the input.
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")),
                   "type": str(err.get("type", ""))} for err in exc.errors()[:50]]
        return JSONResponse({"detail": errors}, status_code=422)

    async def too_deep(_: Request, exc: Exception) -> JSONResponse:
        # JSON nested thousands of levels deep: parsing or storing it recursed too far.
        return _error(422, "The request nests values too deeply to store (at most a few "
                           "hundred levels).")

    app.add_exception_handler(RecursionError, too_deep)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnknownRunsError, unknown_reference)
    app.add_exception_handler(UnknownReferenceError, unknown_reference)
    app.add_exception_handler(ParameterError, unknown_reference)
    app.add_exception_handler(ArchivedVersionError, archived)
    app.add_exception_handler(DatabaseBusyError, busy)
    app.add_exception_handler(sa_exc.DBAPIError, database_error)
    app.add_exception_handler(sa_exc.IntegrityError, integrity_error)


def create_app(database_url: str | None = None, api_key: str | None = None, *,
               max_body_size: int | None = None, use_settings: bool = True,
               bind_host: str | None = None, scheduler: bool = False) -> FastAPI:
    """Build the headwater API application.

    The database is migrated when the app starts (ASGI lifespan) or on the
    first request, whichever comes first, so the app also works in process
    through ``httpx.ASGITransport``, which sends no lifespan events; then
    close it with ``await app.state.database.aclose()``.

    Args:
        database_url: SQLAlchemy URL; unset: ``HEADWATER_API_DATABASE_CONNECTION_URL``,
            else SQLite at ``HEADWATER_HOME/headwater.db``.
        api_key: Key every request but ``/api/health`` must send as
            ``Authorization: Bearer <key>``; unset: ``HEADWATER_SERVER_API_KEY``
            (no key: no authentication).
        max_body_size: Largest request body in bytes (default 20 MiB).
        use_settings: Read the unset arguments from headwater's settings;
            False leaves them unset.
        bind_host: The interface the server listens on (None: in process).
            Without an API key on a loopback interface, requests must be
            addressed to a loopback name (against DNS rebinding).
        scheduler: Run the scheduler service while the app runs (ASGI
            lifespan; ``headwater server start`` does), every
            ``HEADWATER_SCHEDULER_LOOP_SECONDS``.

    Returns:
        The FastAPI app; ``app.state.database`` is its :class:`Database`.
    """
    url = resolve_database_url(database_url) if use_settings else database_url
    if url is None:
        raise ValueError("create_app(use_settings=False) needs a database_url")
    if api_key is None and use_settings:
        api_key = _settings_api_key()
    if api_key is not None and not api_key.strip():
        raise ValueError("The API key is empty: set a non-empty key, or none to run without "
                         "authentication.")
    if max_body_size is None:
        max_body_size = _settings_max_body_size() if use_settings else DEFAULT_MAX_BODY_SIZE
    database = Database(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.start()
        try:
            async with _services(app, database, enabled=scheduler):
                yield
        finally:
            await database.aclose()

    app = FastAPI(
        title="headwater", version=__version__, lifespan=lifespan,
        openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
        description="The headwater orchestration API (Prefect 2's REST shape).",
    )
    app.state.database = database
    _configure_scheduler(app, use_settings)
    from headwater.server.api import ROUTERS, records

    for router in ROUTERS:
        app.include_router(router, prefix="/api")
    _install_error_handlers(app)
    _patch_openapi(app, records.add_openapi_components)
    # Outermost first: authentication before reading any body.
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_size)
    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key)
    elif bind_host is not None and is_loopback(bind_host):
        app.add_middleware(LoopbackHostMiddleware)
    return app


def _configure_scheduler(app: FastAPI, use_settings: bool) -> None:
    """The scheduler's clock and configuration (None: the settings', read when it runs)."""
    from headwater.server.services.planning import SchedulerConfig
    from headwater.server.services.scheduler import utc_now

    app.state.now = utc_now
    app.state.scheduler_config = None if use_settings else SchedulerConfig()


@asynccontextmanager
async def _services(app: FastAPI, database: Database, *, enabled: bool) -> AsyncIterator[None]:
    """Run the background services (the scheduler) while the app runs."""
    if not enabled:
        yield
        return
    import asyncio

    from headwater.server.services.scheduler import run_scheduler

    task = asyncio.create_task(run_scheduler(database, app.state.scheduler_config,
                                             now=lambda: app.state.now()))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _patch_openapi(app: FastAPI, extend: Any) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            extend(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
