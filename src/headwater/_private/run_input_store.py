"""The flow run input store, from flow code: Prefect 2's ``prefect.input`` actions.

Values are JSON: ``create_flow_run_input`` serialises the value, and
``read_flow_run_input`` parses it back (None when nothing is stored under
the key). Without ``flow_run_id`` they act on the current flow run. Calls go
through the API client of the process's target (``HEADWATER_API_URL`` or the
local database), on the background loop; the ``*_async`` twins await it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

__all__ = ["FlowRunInput", "call_api", "call_api_async", "create_flow_run_input",
           "create_flow_run_input_async", "create_flow_run_input_from_model",
           "delete_flow_run_input",
           "delete_flow_run_input_async", "ensure_flow_run_id", "filter_flow_run_input",
           "filter_flow_run_input_async", "read_flow_run_input", "read_flow_run_input_async"]

T = TypeVar("T")


class FlowRunInput(pydantic.BaseModel):
    """One stored input of a flow run, as `filter_flow_run_input` returns it (Prefect 2's)."""

    id: uuid.UUID
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    flow_run_id: uuid.UUID
    key: str
    value: str
    sender: str | None = None

    @property
    def decoded_value(self) -> Any:
        """The value parsed from JSON."""
        return json.loads(self.value)


def ensure_flow_run_id(flow_run_id: uuid.UUID | str | None = None) -> uuid.UUID:
    """``flow_run_id``, else the current flow run's id.

    Raises:
        MissingContextError: Neither given nor inside a flow run.
    """
    from headwater._private.context import flow_run_ctx
    from headwater.exceptions import MissingContextError

    if flow_run_id is not None:
        return uuid.UUID(str(flow_run_id))
    ctx = flow_run_ctx.get()
    if ctx is None:
        raise MissingContextError("Must either provide a flow run ID or be within a flow run.")
    return ctx.flow_run.id


async def call_api_async(work: Callable[[HeadwaterClient], Awaitable[T]]) -> T:
    """``work(client)`` with a client of the process's target."""
    from headwater._private.target import current_target

    async with current_target().client() as client:
        return await work(client)


def call_api(work: Callable[[HeadwaterClient], Awaitable[T]]) -> T:
    """Blocking twin of `call_api_async` (runs it on the background loop)."""
    from headwater._private import background

    return background.run(lambda: call_api_async(work))


async def create_flow_run_input_async(key: str, value: Any,
                                      flow_run_id: uuid.UUID | str | None = None,
                                      sender: str | None = None) -> None:
    """Store ``value`` (as JSON) under ``key`` for the flow run.

    Raises:
        APIError: 409 when the key is taken (inputs are written once).
    """
    run_id = ensure_flow_run_id(flow_run_id)
    text = json.dumps(value)
    await call_api_async(lambda c: c.create_flow_run_input(run_id, key, text, sender))


async def read_flow_run_input_async(key: str,
                                    flow_run_id: uuid.UUID | str | None = None) -> Any:
    """The value stored under ``key`` (parsed JSON), or None when there is none."""
    from headwater.client import APIError

    run_id = ensure_flow_run_id(flow_run_id)
    try:
        text = await call_api_async(lambda c: c.read_flow_run_input(run_id, key))
    except APIError as exc:
        if exc.status_code == 404:
            return None
        raise
    return json.loads(text)


async def filter_flow_run_input_async(key_prefix: str, limit: int = 1,
                                      exclude_keys: Iterable[str] | None = None,
                                      flow_run_id: uuid.UUID | str | None = None,
                                      ) -> list[FlowRunInput]:
    """The flow run's inputs whose key starts with ``key_prefix`` (oldest first)."""
    run_id = ensure_flow_run_id(flow_run_id)
    excluded = list(exclude_keys or ())
    rows = await call_api_async(
        lambda c: c.filter_flow_run_input(run_id, key_prefix, limit, excluded))
    return [FlowRunInput.model_validate(row) for row in rows]


async def delete_flow_run_input_async(key: str,
                                      flow_run_id: uuid.UUID | str | None = None) -> None:
    """Delete the input stored under ``key``.

    Raises:
        APIError: 404 when nothing is stored under it.
    """
    run_id = ensure_flow_run_id(flow_run_id)
    await call_api_async(lambda c: c.delete_flow_run_input(run_id, key))


def create_flow_run_input(key: str, value: Any, flow_run_id: uuid.UUID | str | None = None,
                          sender: str | None = None) -> None:
    """Blocking twin of `create_flow_run_input_async`."""
    run_id = ensure_flow_run_id(flow_run_id)
    from headwater._private import background

    background.run(lambda: create_flow_run_input_async(key, value, run_id, sender))


def read_flow_run_input(key: str, flow_run_id: uuid.UUID | str | None = None) -> Any:
    """Blocking twin of `read_flow_run_input_async`."""
    run_id = ensure_flow_run_id(flow_run_id)
    from headwater._private import background

    return background.run(lambda: read_flow_run_input_async(key, run_id))


def filter_flow_run_input(key_prefix: str, limit: int = 1,
                          exclude_keys: Iterable[str] | None = None,
                          flow_run_id: uuid.UUID | str | None = None) -> list[FlowRunInput]:
    """Blocking twin of `filter_flow_run_input_async`."""
    run_id = ensure_flow_run_id(flow_run_id)
    from headwater._private import background

    return background.run(
        lambda: filter_flow_run_input_async(key_prefix, limit, exclude_keys, run_id))


def delete_flow_run_input(key: str, flow_run_id: uuid.UUID | str | None = None) -> None:
    """Blocking twin of `delete_flow_run_input_async`."""
    run_id = ensure_flow_run_id(flow_run_id)
    from headwater._private import background

    background.run(lambda: delete_flow_run_input_async(key, run_id))


def create_flow_run_input_from_model(key: str, model_instance: Any,
                                     flow_run_id: uuid.UUID | str | None = None,
                                     sender: str | None = None) -> None:
    """Store a pydantic model instance (as JSON) under ``key``; the sender defaults to
    ``headwater.flow-run.<current run id>`` inside a flow run, as in Prefect 2."""
    from headwater._private.context import flow_run_ctx

    if sender is None:
        ctx = flow_run_ctx.get()
        if ctx is not None:
            sender = f"headwater.flow-run.{ctx.flow_run.id}"
    create_flow_run_input(key, model_instance.model_dump(mode="json"), flow_run_id, sender)
