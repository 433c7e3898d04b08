"""ASGI middleware: API key authentication, the loopback Host check and the body limit.

Plain ASGI (not ``BaseHTTPMiddleware``): no extra task per request, and the
body is read once, here, before any route sees it.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["API_PREFIX", "LOOPBACK_HOSTS", "OPEN_PATHS", "ApiKeyMiddleware",
           "BodyLimitMiddleware", "LoopbackHostMiddleware", "is_loopback", "needs_key"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths that need no API key.
OPEN_PATHS = frozenset({"/api/health"})

#: The prefix of every path that reads or changes data. Other paths serve the
#: web UI's static files (no data): they load without a key, and the UI then
#: asks for the key and sends it with each API call.
API_PREFIX = "/api"


def needs_key(path: str) -> bool:
    """Whether a request to ``path`` must carry the API key (when one is set)."""
    if path in OPEN_PATHS:
        return False
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


async def _reply(send: Send, status: int, detail: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]})
    await send({"type": "http.response.body", "body": body})


class ApiKeyMiddleware:
    """Require ``Authorization: Bearer <key>`` on every API path but ``OPEN_PATHS``.

    Paths outside ``/api`` are the web UI's static files, which hold no data.

    The scheme name is matched case-insensitively (RFC 7235: ``bearer`` is
    ``Bearer``); the key is compared in constant time and never logged or echoed.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        if not api_key.strip():
            raise ValueError("an empty API key would let every request in; set a real key")
        self.app = app
        self._expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_key(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        scheme, _, token = (given or b"").strip().partition(b" ")
        if given is None:
            detail = ("Missing API key: this server requires 'Authorization: Bearer <key>' "
                      "(set HEADWATER_API_KEY on the client).")
        elif scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(),
                                                                     self._expected):
            detail = "Invalid API key: the Authorization header does not hold this server's key."
        else:
            await self.app(scope, receive, send)
            return
        await _reply(send, 401, detail, [(b"www-authenticate", b"Bearer")])


#: Host names a server bound to a loopback interface is reached by.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an interface to bind, or a Host header's name) is this machine only."""
    import ipaddress

    name = host.strip().lower()
    if name in LOOPBACK_HOSTS or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:  # a name, not an address
        return False


class LoopbackHostMiddleware:
    """Refuse requests whose ``Host`` header is not a loopback name (421).

    A server without an API key bound to 127.0.0.1 trusts whoever can reach
    it, which a web page in the user's browser can, through DNS rebinding
    (a name of the attacker's that resolves to 127.0.0.1). Such a request
    carries the attacker's name in ``Host``; real local clients send
    ``localhost`` or an address.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = next((v for k, v in scope["headers"] if k == b"host"), b"")
            name = given.decode("latin-1")
            name = name[:name.rindex(":")] if name.count(":") == 1 or "]:" in name else name
            if not is_loopback(name):
                await _reply(send, 421, "This server only answers requests addressed to "
                                        "localhost (Host header); set HEADWATER_SERVER_API_KEY "
                                        "to serve other names.")
                return
        await self.app(scope, receive, send)


# A JSON escape of a lone surrogate or of NUL: ``\\uD800``..``\\uDFFF`` not in a
# valid pair, ``\\u0000``. Group 1 is the run of backslashes before the ``u``:
# an escape only when it is odd (``\\\\u0000`` is a backslash, then text).
_TEXT_ESCAPE = re.compile(
    rb"(\\+)u(0000|[dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|[dD][c-fC-F][0-9a-fA-F]{2})")


def _keep_as_text(match: re.Match[bytes]) -> bytes:
    slashes, code = match.group(1), match.group(2)
    if len(slashes) % 2 == 0 or len(code) > 4:  # not an escape, or a valid surrogate pair
        return match.group(0)
    return slashes + b"\\u" + code  # one more backslash: the six characters, as text


def valid_json_text(body: bytes) -> bytes:
    """``body`` with each JSON escape of a lone surrogate or NUL turned into plain text.

    Neither can be stored: a lone surrogate is no character (UTF-8 cannot
    encode it; Python gives one for a file name that is not UTF-8), and
    PostgreSQL text cannot hold NUL. Rather than refuse a whole batch of run
    records for one such character, the API stores the escape's six
    characters (``\\udcff``, ``\\u0000``), on every database alike.
    """
    if b"\\u" not in body:
        return body
    return _TEXT_ESCAPE.sub(_keep_as_text, body)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, before any route runs.

    The body is read here in full (routes need it whole anyway) and replayed
    to the app, so an oversized body never reaches a route half-read; text
    no database can store is made valid on the way (`valid_json_text`).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = valid_json_text(b"".join(chunks))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        await _reply(send, 413, f"Request body too large: the limit is {self.max_bytes} bytes "
                                "(HEADWATER_SERVER_MAX_BODY_SIZE); send smaller batches.")
