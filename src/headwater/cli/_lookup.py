"""Finding the run a person names: by id, by a unique part of its id, or by its name.

Tables show an id's last 8 hex digits, and a person may paste a prefix, a
tail or the whole id, or type the run's name (``crimson-otter``). One
request asks for runs whose id contains the text (``id.like_``) or whose
name is the text; one match is the run, none or several is one clear error
(several are listed, newest first, so the person can pick).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

__all__ = ["find_flow_run", "find_task_run"]

_ID_PART = re.compile(r"[0-9a-fA-F-]+")
_CANDIDATES = 10


async def find_flow_run(client: Any, text: str) -> dict[str, Any]:
    """The flow run ``text`` names (its id, a unique part of it, or its name).

    Raises:
        ObjectNotFound: No run matches (the message says so), or several do
            (the message lists them).
    """
    return await _find(client, text, "flow run", "flow_runs")


async def find_task_run(client: Any, text: str) -> dict[str, Any]:
    """The task run ``text`` names (its id, a unique part of it, or its name).

    Raises:
        ObjectNotFound: No run matches, or several do (listed).
    """
    return await _find(client, text, "task run", "task_runs")


async def _find(client: Any, text: str, kind: str, route: str) -> dict[str, Any]:
    from headwater.client import APIError
    from headwater.exceptions import ObjectNotFound

    text = text.strip().lstrip("…")
    try:
        run_id: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        run_id = None
    if run_id is not None:
        try:
            run: dict[str, Any] = await client.request("GET", f"{route}/{run_id}")
            return run
        except APIError as exc:
            if exc.status_code != 404:
                raise
        raise ObjectNotFound(f"no {kind} with id {text}; 'headwater {kind.replace(' ', '-')} "
                             "ls' lists the recent ones.")
    found = await _matching(client, route, "name", {"any_": [text]})
    digits = len(text.replace("-", ""))
    if _ID_PART.fullmatch(text) and 4 <= digits <= 32:
        by_id = await _matching(client, route, "id", {"like_": text})
        found += [r for r in by_id if r["id"] not in {f["id"] for f in found}]
    if len(found) == 1:
        return found[0]
    command = f"headwater {kind.replace(' ', '-')} ls"
    if not found:
        hint = " (a part of an id has at least 4 hex digits)" if digits < 4 else ""
        raise ObjectNotFound(f"no {kind} with id or name {text!r}{hint}; '{command}' lists "
                             "the recent ones.")
    listed = "; ".join(f"{r['id']} {r.get('name')!r} ({r.get('state_type') or 'no state'})"
                       for r in found[:_CANDIDATES])
    more = " and more" if len(found) > _CANDIDATES else ""
    raise ObjectNotFound(f"{len(found[:_CANDIDATES])}{more} {kind}s match {text!r}: {listed}; "
                         "give more of the id of the one you mean.")


async def _matching(client: Any, route: str, field: str, criterion: dict[str, Any]
                    ) -> list[dict[str, Any]]:
    body = {route: {field: criterion}, "limit": _CANDIDATES + 1,
            "sort": "EXPECTED_START_TIME_DESC"}
    return [dict(r) for r in await client.request("POST", f"{route}/filter", json=body)]
