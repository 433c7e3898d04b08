"""The flow run input and resume methods of :class:`~headwater.client.HeadwaterClient`.

Prefect 2's names and shapes: a flow run's inputs are text values under
keys (``RunInput`` stores JSON there), written once per key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from headwater.client._requester import Requester

__all__ = ["FlowRunInputMixin"]

Id = uuid.UUID | str


class FlowRunInputMixin(Requester):
    """``/flow_runs/{id}/input`` and ``/flow_runs/{id}/resume``."""

    async def resume_flow_run(self, flow_run_id: Id,
                              run_input: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST /flow_runs/{id}/resume``: resume a paused or suspended flow run.

        Returns:
            The orchestration result (``status``, ``state``, ``details``): ABORT
            when the run is not paused, REJECT when the input does not fit
            the schema the run saved (or the pause timed out: the state is
            then FAILED).

        Raises:
            APIError: 404 for an unknown run.
        """
        return dict(await self.request("POST", f"flow_runs/{flow_run_id}/resume",
                                       json={"run_input": run_input}))

    async def create_flow_run_input(self, flow_run_id: Id, key: str, value: str,
                                    sender: str | None = None) -> None:
        """``POST /flow_runs/{id}/input``: store ``value`` under ``key``.

        Raises:
            APIError: 409 when the key is taken, 404 for an unknown run.
        """
        await self.request("POST", f"flow_runs/{flow_run_id}/input",
                           json={"key": key, "value": value, "sender": sender})

    async def filter_flow_run_input(self, flow_run_id: Id, key_prefix: str, limit: int,
                                    exclude_keys: Iterable[str]) -> list[dict[str, Any]]:
        """``POST /flow_runs/{id}/input/filter``: inputs whose key starts with ``key_prefix``."""
        body = {"prefix": key_prefix, "limit": limit, "exclude_keys": list(exclude_keys)}
        return list(await self.request("POST", f"flow_runs/{flow_run_id}/input/filter",
                                       json=body))

    async def read_flow_run_input(self, flow_run_id: Id, key: str) -> str:
        """``GET /flow_runs/{id}/input/{key}``: the value stored under ``key``.

        Raises:
            APIError: 404 when nothing is stored under it.
        """
        response = await self.send("GET", f"flow_runs/{flow_run_id}/input/{key}")
        return response.text

    async def delete_flow_run_input(self, flow_run_id: Id, key: str) -> None:
        """``DELETE /flow_runs/{id}/input/{key}``.

        Raises:
            APIError: 404 when nothing is stored under it.
        """
        await self.send("DELETE", f"flow_runs/{flow_run_id}/input/{key}")
