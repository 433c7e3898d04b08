"""HeadwaterClient: an async httpx client over the orchestration API.

One source of truth: every method is async. ``SyncHeadwaterClient`` wraps the
same object and runs each call on headwater's background loop, so there is no
hand-copied sync twin to drift.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from headwater.client._deployments import DeploymentsMixin
from headwater.client._inputs import FlowRunInputMixin
from headwater.client._workers import WorkPoolsMixin
from headwater.exceptions import HeadwaterException

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class APIError(HeadwaterException):
    """Raised when the API answers with an error; carries the status and the API's message."""

    def __init__(self, status_code: int, message: str, method: str, url: str) -> None:
        super().__init__(f"{method} {url} failed with {status_code}: {message}")
        self.status_code = status_code
        self.detail = message


class APIUnreachable(HeadwaterException, ConnectionError):
    """Raised when the API cannot be reached after the configured retries."""


class HeadwaterClient(DeploymentsMixin, FlowRunInputMixin, WorkPoolsMixin):
    """An async client for headwater's REST API.

    Args:
        api_url: The API's base URL, e.g. ``http://127.0.0.1:4200/api``.
        api_key: Sent as ``Authorization: Bearer <key>`` when given.
        transport: An httpx transport (``httpx.ASGITransport(app)`` for the
            embedded, in-process API).
        timeout: Seconds per request.
        retries: How many times a request is retried on connection errors
            and 429/502/503/504 answers, with exponential backoff (honouring
            ``Retry-After``).

    Use it as an async context manager::

        async with HeadwaterClient("http://127.0.0.1:4200/api") as client:
            runs = await client.read_flow_runs(limit=10)
    """

    def __init__(self, api_url: str, api_key: str | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0,
                 retries: int = 3, backoff: float = 0.5) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.api_url = api_url.rstrip("/")
        self._retries = retries
        self._backoff = backoff
        self._http = httpx.AsyncClient(base_url=self.api_url + "/", headers=headers,
                                       transport=transport, timeout=timeout)
        self._on_close: list[Callable[[], Awaitable[None]]] = []

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await ``callback()`` when the client closes (e.g. an embedded app's database)."""
        self._on_close.append(callback)

    async def __aenter__(self) -> HeadwaterClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (and what ``on_close`` registered)."""
        await self._http.aclose()
        for callback in self._on_close:
            await callback()
        self._on_close.clear()

    # ------------------------------------------------------------------ transport
    async def request(self, method: str, path: str, *, json: Any = None,
                      content: bytes | None = None, params: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> Any:
        """Send one request with retries; return the decoded JSON body (None when empty).

        Raises:
            APIError: The API answered 4xx/5xx (after retries for 429/5xx).
            APIUnreachable: No answer after the retries.
        """
        response = await self.send(method, path, json=json, content=content, params=params,
                                   headers=headers)
        if not response.content:
            return None
        return response.json()

    async def send(self, method: str, path: str, *, json: Any = None,
                   content: bytes | None = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        """Like :meth:`request`, but return the response (its status and headers too).

        Raises:
            APIError: The API answered 4xx/5xx (after retries for 429/5xx).
            APIUnreachable: No answer after the retries.
        """
        path = path.lstrip("/")
        for attempt in range(self._retries + 1):
            try:
                response = await self._http.request(method, path, json=json, content=content,
                                                    params=params, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError,
                    httpx.RemoteProtocolError) as exc:
                if attempt == self._retries:
                    raise APIUnreachable(
                        f"Could not reach the headwater API at {self.api_url} "
                        f"({type(exc).__name__}: {exc}). Is the server running? Start one with "
                        "'headwater server start', or unset HEADWATER_API_URL to record locally."
                    ) from None
                await asyncio.sleep(self._delay(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and attempt < self._retries:
                await asyncio.sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code >= 400:
                raise APIError(response.status_code, _message(response), method,
                               f"{self.api_url}/{path}")
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(60.0, float(retry_after))
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(retry_after)
                if parsed is not None:
                    return max(0.0, min(60.0, parsed.timestamp() - time.time()))
        return float(self._backoff * 2**attempt)

    # ------------------------------------------------------------------ service
    async def hello(self) -> Any:
        """``GET /hello``: a cheap check that the API answers."""
        return await self.request("GET", "hello")

    async def health(self) -> Any:
        """``GET /health``."""
        return await self.request("GET", "health")

    async def version(self) -> Any:
        """``GET /version``: the server's version."""
        return await self.request("GET", "version")

    # ------------------------------------------------------------------ flows and runs
    async def read_flows(self, *, name: str | None = None, limit: int = 200,
                         offset: int = 0) -> list[dict[str, Any]]:
        """``POST /flows/filter``: flows, optionally by name."""
        body: dict[str, Any] = {"limit": limit, "offset": offset}
        if name is not None:
            body["flows"] = {"name": {"any_": [name]}}
        return list(await self.request("POST", "flows/filter", json=body))

    async def read_flow_run(self, flow_run_id: uuid.UUID | str) -> dict[str, Any]:
        """``GET /flow_runs/{id}``."""
        return dict(await self.request("GET", f"flow_runs/{flow_run_id}"))

    async def read_flow_runs(self, *, flow_name: str | None = None,
                             state_type: str | None = None, limit: int = 200, offset: int = 0,
                             sort: str = "EXPECTED_START_TIME_DESC") -> list[dict[str, Any]]:
        """``POST /flow_runs/filter``: newest first by default."""
        body: dict[str, Any] = {"limit": limit, "offset": offset, "sort": sort}
        if flow_name is not None:
            body["flows"] = {"name": {"any_": [flow_name]}}
        if state_type is not None:
            body["flow_runs"] = {"state": {"type": {"any_": [state_type.upper()]}}}
        return list(await self.request("POST", "flow_runs/filter", json=body))

    async def read_flow_runs_by_id(self, ids: Iterable[uuid.UUID | str], *,
                                   state_types: Iterable[str] | None = None,
                                   ) -> list[dict[str, Any]]:
        """``POST /flow_runs/filter``: the flow runs with these ids (in these state types).

        One request for up to 10,000 ids (the API's page limit); ids that are
        not stored are left out of the answer.
        """
        wanted = [str(i) for i in ids]
        runs: dict[str, Any] = {"id": {"any_": wanted}}
        if state_types is not None:
            runs["state"] = {"type": {"any_": [t.upper() for t in state_types]}}
        body = {"flow_runs": runs, "limit": len(wanted), "sort": "ID_DESC"}
        return list(await self.request("POST", "flow_runs/filter", json=body))

    async def set_flow_run_state(self, flow_run_id: uuid.UUID | str, state: Mapping[str, Any],
                                 *, force: bool = False,
                                 expected_state_version: int | None = None) -> dict[str, Any]:
        """``POST /flow_runs/{id}/set_state``: propose a state, judged by the API's rules.

        Args:
            flow_run_id: The flow run.
            state: The proposed state: ``type`` and optionally ``name``,
                ``message``, ``state_details``, ``data``.
            force: Accept whatever the transition rules say.
            expected_state_version: Abort unless the run's ``state_version``
                still equals this (someone else moved the run first).

        Returns:
            The orchestration result: ``status`` (``ACCEPT``, ``REJECT`` or
            ``ABORT``), the run's ``state`` and, unless accepted, ``details``
            with the ``reason``.

        Raises:
            APIError: 404 for an unknown run, 422 for a malformed state.
        """
        body: dict[str, Any] = {"state": dict(state), "force": force}
        if expected_state_version is not None:
            body["expected_state_version"] = expected_state_version
        return dict(await self.request("POST", f"flow_runs/{flow_run_id}/set_state", json=body))

    async def read_task_runs(self, *, flow_run_id: uuid.UUID | str | None = None,
                             limit: int = 200, offset: int = 0,
                             sort: str = "EXPECTED_START_TIME_ASC") -> list[dict[str, Any]]:
        """``POST /task_runs/filter``: the task runs of a flow run (or all), oldest first."""
        body: dict[str, Any] = {"limit": limit, "offset": offset, "sort": sort}
        if flow_run_id is not None:
            body["task_runs"] = {"flow_run_id": {"any_": [str(flow_run_id)]}}
        return list(await self.request("POST", "task_runs/filter", json=body))

    async def read_flow_run_states(self, flow_run_id: uuid.UUID | str) -> list[dict[str, Any]]:
        """``GET /flow_run_states/?flow_run_id=``: a flow run's state history."""
        return list(await self.request("GET", "flow_run_states/",
                                       params={"flow_run_id": str(flow_run_id)}))

    async def read_task_run_states(self, task_run_id: uuid.UUID | str) -> list[dict[str, Any]]:
        """``GET /task_run_states/?task_run_id=``: a task run's state history."""
        return list(await self.request("GET", "task_run_states/",
                                       params={"task_run_id": str(task_run_id)}))

    async def delete_flow_run(self, flow_run_id: uuid.UUID | str) -> None:
        """``DELETE /flow_runs/{id}``: the run, its task runs and their states (logs stay).

        Raises:
            APIError: 404 when there is no such flow run.
        """
        await self.request("DELETE", f"flow_runs/{flow_run_id}")

    async def delete_task_run(self, task_run_id: uuid.UUID | str) -> None:
        """``DELETE /task_runs/{id}``: the run and its states (logs stay)."""
        await self.request("DELETE", f"task_runs/{task_run_id}")

    async def delete_flow(self, flow_id: uuid.UUID | str) -> None:
        """``DELETE /flows/{id}``: the flow and all its runs (logs stay)."""
        await self.request("DELETE", f"flows/{flow_id}")

    async def read_cache_key(self, cache_key: str) -> dict[str, Any]:
        """``GET /cache_keys/{key}``: the completed task run state cached under ``cache_key``.

        Raises:
            APIError: 404 when no completed task run state was recorded with
                that key, or its ``cache_expiration`` has passed (the message
                says which).
        """
        from urllib.parse import quote

        return dict(await self.request("GET", f"cache_keys/{quote(cache_key, safe='')}"))

    async def read_logs(self, *, flow_run_id: uuid.UUID | str | None = None,
                        limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """``POST /logs/filter``: log records, oldest first."""
        body: dict[str, Any] = {"limit": limit, "offset": offset, "sort": "TIMESTAMP_ASC"}
        if flow_run_id is not None:
            body["logs"] = {"flow_run_id": {"any_": [str(flow_run_id)]}}
        return list(await self.request("POST", "logs/filter", json=body))

    async def create_logs(self, logs: Iterable[Mapping[str, Any]]) -> None:
        """``POST /logs/``: store log lines, in one request.

        Each line is a mapping with ``name``, ``level``, ``message`` and
        ``timestamp`` (ISO 8601 text or a datetime), and optionally
        ``flow_run_id``, ``task_run_id`` and ``id`` (text or UUIDs). A line
        whose ``id`` is stored already is skipped, so lines sent with ids can
        be sent again after a failure without being stored twice.

        Raises:
            APIError: The API refused the lines (422 for a malformed one).
            APIUnreachable: No answer after the retries.
        """
        import pydantic_core

        await self.request("POST", "logs/", content=pydantic_core.to_json(list(logs)),
                           headers={"Content-Type": "application/json"})

    async def send_record_batch(self, batch: dict[str, Any]) -> Any:
        """``POST /records/batch``: store a recorder batch (idempotent)."""
        import pydantic_core

        return await self.request("POST", "records/batch", content=pydantic_core.to_json(batch),
                                  headers={"Content-Type": "application/json"})


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:500]


class SyncHeadwaterClient:
    """A blocking facade over :class:`HeadwaterClient`: same methods, no ``await``.

    Each call runs the async method on headwater's background loop, so the
    logic exists once.
    """

    def __init__(self, client: HeadwaterClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return _run(lambda: attr(*args, **kwargs))

        call.__name__ = name
        call.__doc__ = attr.__doc__
        return call

    def close(self) -> None:
        """Close the connection pool."""
        _run(self._client.aclose)

    def __enter__(self) -> SyncHeadwaterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    from headwater._private import background

    async def wrapper() -> T:
        return await factory()

    return background.run(wrapper)
