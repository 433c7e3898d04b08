"""``/records/batch``: the recorder's bulk endpoint (a headwater extension)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB
from headwater.server.schemas.records import RECORDS_BATCH, RecordsBatch, RecordsBatchResult
from headwater.server.services.records import record_batch

__all__ = ["add_openapi_components", "router"]

router = APIRouter(prefix="/records", tags=["Records"])

#: Validation errors reported for one bad batch, at most.
_MAX_ERRORS = 20


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    # Without "input": it can be the whole (large) body.
    return [{"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False)[:_MAX_ERRORS]]


@router.post(
    "/batch",
    openapi_extra={"requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecordsBatch"}}},
    }},
)
async def records_batch(request: Request, db: DB) -> RecordsBatchResult:
    """Store flows, runs, states and logs in one transaction; idempotent.

    Records whose ids are stored already are skipped (re-sending a batch is
    safe); the counts say what was stored. States become the run's current
    state when they are its latest by timestamp; they are recorded as given,
    without orchestration rules. A state, log or task run naming a run that is
    neither in the batch nor stored fails the whole batch with 422.
    """
    try:
        batch = RECORDS_BATCH.validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(_errors(exc)) from None

    async def work(conn: AsyncConnection) -> RecordsBatchResult:
        return await record_batch(conn, batch)

    return await db.write(work)


def add_openapi_components(schema: dict[str, Any]) -> None:
    """Add ``RecordsBatch`` and its parts to an OpenAPI document's components."""
    body = RECORDS_BATCH.json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(body.pop("$defs", {}))
    components[RecordsBatch.__name__] = body
