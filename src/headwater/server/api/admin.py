"""Health, hello and version."""

from __future__ import annotations

from fastapi import APIRouter

from headwater._version import __version__

__all__ = ["router"]

router = APIRouter(tags=["Admin"])


@router.get("/health")
async def health() -> bool:
    """True while the server is up (no authentication needed)."""
    return True


@router.get("/hello")
async def hello() -> str:
    """Say hello (checks authentication and the route table)."""
    return "👋"


@router.get("/version")
async def version() -> str:
    """The headwater version of the server."""
    return __version__
