"""Transports for the recorder: the embedded API (SQLite in process) or a remote server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient


class ClientTransport:
    """Sends batches with a ``HeadwaterClient`` to ``POST /records/batch``."""

    def __init__(self, client: HeadwaterClient) -> None:
        self.client = client

    async def send(self, batch: dict[str, Any]) -> None:
        """Store one batch; raises on failure (the recorder keeps it and retries)."""
        await self.client.send_record_batch(batch)

    async def close(self) -> None:
        """Close the client (and an embedded app's database)."""
        await self.client.aclose()


async def embedded_transport() -> ClientTransport:
    """The API served in the recorder's thread, over the local SQLite database."""
    from headwater.client._factory import embedded_client

    return ClientTransport(embedded_client(retries=0))


def remote_transport_factory(url: str, key: str | None) -> Any:
    """Return a factory for a transport to the server at ``url``."""

    async def factory() -> ClientTransport:
        from headwater.client import HeadwaterClient

        # One quick retry: the recorder itself keeps failed batches and tries again.
        return ClientTransport(HeadwaterClient(url, key, retries=1, backoff=0.2, timeout=30))

    return factory
