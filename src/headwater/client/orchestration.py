"""The API clients, at Prefect 2's ``prefect.client.orchestration`` path.

Same names as `headwater.client`: `get_client`, `HeadwaterClient`,
`SyncHeadwaterClient`.
"""

from headwater.client._client import HeadwaterClient, SyncHeadwaterClient
from headwater.client._factory import get_client

__all__ = ["HeadwaterClient", "SyncHeadwaterClient", "get_client"]
