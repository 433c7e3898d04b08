"""The headwater orchestration API server (FastAPI + SQLAlchemy 2).

Importing this package is cheap: the server stack (FastAPI, SQLAlchemy,
alembic) loads on first use of :func:`create_app`, so ``import headwater``
never pays for it.

Layout:
    ``app.py``            the application factory, middleware and error handlers
    ``api/``              one FastAPI router per resource (Prefect 2's REST shape)
    ``schemas/``          pydantic request and response models
    ``services/``         database work: queries, filters, the records batch
    ``orchestration/``    transition rules (pure functions, no I/O)
    ``database/``         tables, engine and sessions, alembic migrations
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from headwater.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
