"""The client for headwater's orchestration API.

``get_client()`` returns a client for the API in the settings: the server at
``HEADWATER_API_URL``, or, when that is unset, the same API served in this
process over the local SQLite database (no server to start, no port).

Example:
    >>> import asyncio
    >>> from headwater.client import get_client
    >>> async def latest():
    ...     async with get_client() as client:
    ...         return await client.read_flow_runs(limit=5)
"""

from headwater.client._client import (
    APIError,
    APIUnreachable,
    HeadwaterClient,
    SyncHeadwaterClient,
)
from headwater.client._factory import get_client

__all__ = ["APIError", "APIUnreachable", "HeadwaterClient", "SyncHeadwaterClient", "get_client"]
