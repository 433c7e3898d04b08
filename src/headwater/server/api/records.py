"""``/records/batch``: the recorder's bulk endpoint (a headwater extension)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB
from headwater.server.schemas.records import (
    RECORDS_BATCH,
    RECORDS_BATCH_BODY,
    ColumnsError,
    RecordsBatch,
    RecordsBatchResult,
    columns_to_rows,
    parse_state_columns,
    parse_task_run_columns,
)
from headwater.server.services.records import Columns, record_batch

__all__ = ["add_openapi_components", "router"]

router = APIRouter(prefix="/records", tags=["Records"])

#: Validation errors reported for one bad batch, at most.
_MAX_ERRORS = 20
#: A hint that the body may hold columns (a false hit only costs a JSON parse).
_COLUMNS_HINT = re.compile(rb'"(?:task_runs|states)"\s*:\s*\{')


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

    ``task_runs`` and ``states`` may each be a list of rows or an object of
    columns (``{"id": [...], "run_id": [...], ...}``: one list per field, all
    of one length, ``null`` for a field not given), which is much cheaper to
    check and store in bulk. Columns that fail the fast checks are turned into
    rows and validated as rows, so errors read the same.
    """
    body = await request.body()
    data: Any = None
    if _COLUMNS_HINT.search(body):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    columns = Columns()
    if (isinstance(data, dict) and (isinstance(data.get("task_runs"), dict)
                                    or isinstance(data.get("states"), dict))):
        batch = _validate_columns(data, columns)
    else:
        try:
            batch = RECORDS_BATCH.validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(_errors(exc)) from None

    async def work(conn: AsyncConnection) -> RecordsBatchResult:
        return await record_batch(conn, batch, columns)

    return await db.write(work)


def _validate_columns(data: dict[str, Any], columns: Columns) -> RecordsBatch:
    """Check a body with columns: fast column checks, else rows and pydantic."""
    try:
        for key, parse in (("task_runs", parse_task_run_columns),
                           ("states", parse_state_columns)):
            if not isinstance(data.get(key), dict):
                continue
            parsed = parse(data[key])
            setattr(columns, key, parsed)
            if parsed is None:  # in doubt: rows, checked by pydantic one by one
                data[key] = columns_to_rows(data[key], key)
            else:
                del data[key]
    except ColumnsError as exc:
        raise RequestValidationError([{"loc": ["body"], "msg": str(exc),
                                       "type": "value_error"}]) from None
    try:
        return RECORDS_BATCH.validate_python(data)
    except ValidationError as exc:
        raise RequestValidationError(_errors(exc)) from None


def add_openapi_components(schema: dict[str, Any]) -> None:
    """Add ``RecordsBatch`` and its parts to an OpenAPI document's components."""
    body = RECORDS_BATCH_BODY.json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(body.pop("$defs", {}))
    components[RecordsBatch.__name__] = body
