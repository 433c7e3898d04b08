"""``get_client()``: a client for the API the settings point at, remote or embedded."""

from __future__ import annotations

from typing import Any, Literal, overload

from headwater.client._client import HeadwaterClient, SyncHeadwaterClient

EMBEDDED_URL = "http://headwater.embedded/api"


@overload
def get_client(sync_client: Literal[False] = False) -> HeadwaterClient: ...


@overload
def get_client(sync_client: Literal[True]) -> SyncHeadwaterClient: ...


def get_client(sync_client: bool = False) -> HeadwaterClient | SyncHeadwaterClient:
    """Return a client for the API in the settings.

    With ``HEADWATER_API_URL`` set, the client talks to that server (sending
    ``HEADWATER_API_KEY``). Without it, the API is served in this process from
    the local database through ``httpx.ASGITransport``: no server, no port.

    Args:
        sync_client: Return the blocking facade instead of the async client.
    """
    from headwater._private.settings import get_current_settings

    settings = get_current_settings()
    url = settings.api.url
    if url:
        key = settings.api.key.get_secret_value() if settings.api.key is not None else None
        client = HeadwaterClient(url, key)
    else:
        client = embedded_client()
    return SyncHeadwaterClient(client) if sync_client else client


def embedded_client(database_url: str | None = None, *, use_settings: bool = True,
                    **options: Any) -> HeadwaterClient:
    """Return a client over a new in-process app on the local (or given) database.

    Args:
        database_url: The database; unset: the settings'.
        use_settings: Read the app's unset options from the settings (see ``create_app``).
        **options: Passed to `HeadwaterClient` (retries, timeouts).
    """
    import httpx

    from headwater.server.app import create_app

    app = create_app(database_url, use_settings=use_settings)
    client = HeadwaterClient(EMBEDDED_URL, transport=httpx.ASGITransport(app=app), **options)
    client.on_close(app.state.database.aclose)
    return client


async def upgrade_database(database_url: str) -> None:
    """Bring the database at ``database_url`` to the head revision, as the in-process app would.

    Embedded mode writes its SQLite file with the storage core, which creates
    a fresh database itself but cannot migrate an older one: that takes
    alembic and SQLAlchemy, so it is done here, where embedded mode may bring
    up the server stack (the runtime never imports ``headwater.server``).
    """
    from headwater.server.database.engine import Database

    database = Database(database_url)
    try:
        await database.start()
    finally:
        await database.aclose()
