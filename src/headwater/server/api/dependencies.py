"""What routes receive from FastAPI: the database, read connections, 404s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, NoReturn

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database.engine import Database

__all__ = ["DB", "ReadConn", "get_database", "not_found", "read_connection"]


def get_database(request: Request) -> Database:
    """The app's database."""
    database: Database = request.app.state.database
    return database


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the duration of a read-only request."""
    async with get_database(request).read() as conn:
        yield conn


DB = Annotated[Database, Depends(get_database)]
ReadConn = Annotated[AsyncConnection, Depends(read_connection)]


def not_found(what: str) -> NoReturn:
    """Raise a 404 saying what was not found."""
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found.")
