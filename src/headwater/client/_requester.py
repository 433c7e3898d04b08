"""The two calls every mixin of `HeadwaterClient` builds on, declared once for the type checker.

The client's methods live in mixins (one file per part of the API); each
mixin calls ``self.request`` / ``self.send``, which `HeadwaterClient`
defines. Declaring them here, for the type checker only, keeps the mixins
checked without a copy of the signatures in each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = ["Requester"]


class Requester:
    """Base of the client's mixins: ``request`` and ``send`` come from `HeadwaterClient`."""

    if TYPE_CHECKING:
        async def request(self, method: str, path: str, *, json: Any = None,
                          content: bytes | None = None, params: dict[str, Any] | None = None,
                          headers: dict[str, str] | None = None) -> Any: ...

        async def send(self, method: str, path: str, *, json: Any = None,
                       content: bytes | None = None, params: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None) -> httpx.Response: ...
