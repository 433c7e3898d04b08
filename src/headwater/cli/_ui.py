"""``headwater ui``: the web UI of the server in use, starting one if none runs."""

from __future__ import annotations

import os
import sys
from typing import Annotated
from urllib.parse import urlsplit

import typer

from headwater.cli._common import fail

__all__ = ["can_open_browser", "ui"]

_DEFAULT_PORT = 4200


def can_open_browser() -> bool:
    """Whether this session can show a browser: not on a headless machine or in CI."""
    if os.environ.get("CI"):
        return False
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.platform in ("darwin", "win32")


def _answers(api_url: str) -> bool:
    """Whether a headwater API answers at ``api_url`` (its health route needs no key)."""
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _configured_api_url() -> str | None:
    from headwater.settings import get_current_settings

    return get_current_settings().api.url


def _open(url: str, open_browser: bool | None) -> None:
    if open_browser is False or (open_browser is None and not can_open_browser()):
        return
    import webbrowser

    webbrowser.open(url)


def ui(
    port: Annotated[int | None, typer.Option(
        help="Port of the server to start when none answers (default: HEADWATER_API_URL's "
             "port, else 4200).")] = None,
    open_browser: Annotated[bool | None, typer.Option(
        "--open/--no-open", help="Open a browser (default: only where a display is).")] = None,
) -> None:
    """Show the web UI: print its URL, starting the server (with the embedded
    database under HEADWATER_HOME) if nothing answers at the configured port."""
    configured = _configured_api_url()
    if configured is not None:
        parts = urlsplit(configured)
        base = f"{parts.scheme}://{parts.netloc}"
        if _answers(configured):
            typer.echo(f"headwater UI: {base}/   (the server at HEADWATER_API_URL)")
            _open(f"{base}/", open_browser)
            return
        from headwater.server.middleware import is_loopback

        if not is_loopback(parts.hostname or ""):
            fail(f"nothing answers at HEADWATER_API_URL={configured}: start the server there "
                 "(headwater server start), or unset HEADWATER_API_URL to use a local one.")
        port = port or parts.port or _DEFAULT_PORT
    port = port or _DEFAULT_PORT
    local = f"http://127.0.0.1:{port}"
    if _answers(f"{local}/api"):
        typer.echo(f"headwater UI: {local}/   (a server already runs on port {port})")
        _open(f"{local}/", open_browser)
        return
    from headwater.cli._server import serve

    def started() -> None:
        typer.echo(f"headwater UI: {local}/   (Ctrl+C stops the server)")
        _open(f"{local}/", open_browser)

    serve("127.0.0.1", port, "warning", on_started=started)
