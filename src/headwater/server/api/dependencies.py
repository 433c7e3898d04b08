"""What routes receive from FastAPI: the database, read connections, 404s."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, NoReturn

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database.engine import Database

__all__ = ["DB", "Now", "ReadConn", "current_time", "get_database", "not_found",
           "read_connection"]


def get_database(request: Request) -> Database:
    """The app's database."""
    database: Database = request.app.state.database
    return database


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the duration of a read-only request."""
    async with get_database(request).read() as conn:
        yield conn


def current_time(request: Request) -> dt.datetime:
    """The app's current time (``app.state.now()``: tests of the scheduler set it)."""
    now: dt.datetime = request.app.state.now()
    return now


DB = Annotated[Database, Depends(get_database)]
Now = Annotated[dt.datetime, Depends(current_time)]
ReadConn = Annotated[AsyncConnection, Depends(read_connection)]


def not_found(what: str) -> NoReturn:
    """Raise a 404 saying what was not found."""
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found.")
