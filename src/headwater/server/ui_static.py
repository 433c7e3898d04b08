"""The web UI's static files, served at ``/`` next to the API.

The UI is a single-page app built from ``ui/`` (Vite) into ``ui_dist/``
beside this module; the build output is committed, so installing headwater
needs no Node (``.ci/run`` rebuilds it and fails when the committed files
differ). Any path outside ``/api`` that is not a file of the build gets
``index.html`` (the app routes in the browser: ``/runs/<id>`` reloads work).

These files hold no data: they load without the API key; the app asks for
the key and sends it with every API call (see ``middleware.needs_key``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response

__all__ = ["UI_DIST", "install_ui"]

#: Where the built UI lives (inside the package, so the wheel ships it).
UI_DIST = Path(__file__).with_name("ui_dist")

# Built assets carry a content hash in their names: cache them for good. The
# shell (index.html) names the current assets, so it is always revalidated.
_IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable"}
_REVALIDATE = {"cache-control": "no-cache"}

_MISSING = """<!doctype html><meta charset="utf-8"><title>headwater</title>
<p>The headwater web UI is not built in this installation (no {dist}).
Build it with <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>,
or use the API at <a href="/api/docs">/api/docs</a>.</p>"""


def _file_in(dist: Path, path: str) -> Path | None:
    """The built file at ``path``, or None; never a file outside ``dist``."""
    if not path or path.endswith("/"):
        return None
    candidate = (dist / path).resolve()
    root = dist.resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def install_ui(app: FastAPI, dist: Path = UI_DIST) -> None:
    """Add the catch-all route that serves the UI (after every API route).

    Args:
        app: The API application; its ``/api`` routes must be included already.
        dist: The built UI (default: the package's ``ui_dist``).
    """

    @app.get("/{path:path}", include_in_schema=False)
    async def ui(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            # An unknown API path is an API error, not the app's shell.
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        found = _file_in(dist, path)
        if found is not None:
            headers = _IMMUTABLE if path.startswith("assets/") else _REVALIDATE
            return FileResponse(found, headers=headers)
        if path.startswith("assets/"):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        index = dist / "index.html"
        if not index.is_file():
            return Response(_MISSING.format(dist=dist), media_type="text/html", status_code=503)
        return FileResponse(index, headers=_REVALIDATE)
