"""``/ui``: compact reads for the web UI (not part of Prefect 2's REST shape).

Clients should use the Prefect-shaped routes; these exist so the UI can
draw a chart of 2,000 runs or a timeline of 10,000 task runs from one small
response (see :mod:`headwater.server.services.ui_views`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from headwater.server.api.dependencies import ReadConn, not_found
from headwater.server.schemas import filters as f
from headwater.server.schemas.actions import ActionModel
from headwater.server.services import flows_and_runs, ui_views

__all__ = ["BoundedCount", "BoundedCountBody", "FlowsSummaryBody", "TaskRunStatesBody", "router"]

router = APIRouter(prefix="/ui", tags=["Web UI"])

#: Most runs counted for a page's total; more shows as "10,000+".
DEFAULT_COUNT_BOUND = 10_000


class BoundedCountBody(f.FlowRunsCountBody):
    """Body of ``POST /ui/flow_runs/count``: a flow-runs filter and where to stop counting."""

    at_most: int = Field(default=DEFAULT_COUNT_BOUND, ge=1, le=1_000_000)


class BoundedCount(ActionModel):
    """How many runs match, up to ``at_most``; ``more``: at least one more matches."""

    count: int
    more: bool


class FlowsSummaryBody(ActionModel):
    """Body of ``POST /ui/flows/summary``: the flows of a page."""

    flow_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    at_most: int = Field(default=DEFAULT_COUNT_BOUND, ge=1, le=1_000_000)


@router.post("/flow_runs/count")
async def count_flow_runs_bounded(conn: ReadConn,
                                  body: BoundedCountBody | None = None) -> BoundedCount:
    """How many flow runs match the filter, counting no further than ``at_most``."""
    body = body or BoundedCountBody()
    count, more = await ui_views.bounded_count(conn, body, body.at_most)
    return BoundedCount(count=count, more=more)


@router.post("/flow_runs/history")
async def flow_run_history(conn: ReadConn,
                           body: f.FlowRunsFilterBody | None = None) -> list[list[Any]]:
    """Matching flow runs as chart rows: ``[id, name, flow_id, state_type, state_name,
    expected_start_ms, start_ms, end_ms]``."""
    return await ui_views.run_history(conn, body or f.FlowRunsFilterBody())


@router.get("/flow_runs/{id}/timeline", response_class=Response)
async def flow_run_timeline(id: uuid.UUID, conn: ReadConn) -> Response:
    """A flow run's task runs with their state histories, and its subflow runs
    (the shape: :func:`headwater.server.services.ui_views.flow_run_timeline`)."""
    if await flows_and_runs.read_run(conn, flows_and_runs.FLOW, id) is None:
        not_found("Flow run")
    timeline = await ui_views.flow_run_timeline(conn, id)
    # Plain lists of numbers and text: json.dumps writes 50,000 states in a tenth
    # of the time FastAPI's encoder takes to walk them.
    return Response(json.dumps(timeline, separators=(",", ":")),
                    media_type="application/json")


class TaskRunStatesBody(ActionModel):
    """Body of ``POST /ui/task_runs/states``: the task runs a timeline shows."""

    task_run_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


@router.post("/task_runs/states")
async def task_run_states(conn: ReadConn, body: TaskRunStatesBody | None = None
                          ) -> dict[str, list[list[Any]]]:
    """State histories of up to 1,000 task runs: ``{id: [[ms, type, name], ...]}``
    (name None: the type's default name)."""
    return await ui_views.task_run_states(conn, (body or TaskRunStatesBody()).task_run_ids)


@router.post("/flows/summary")
async def flows_summary(conn: ReadConn,
                        body: FlowsSummaryBody | None = None) -> dict[str, dict[str, Any]]:
    """For each flow: its run count (bounded) and its latest run."""
    body = body or FlowsSummaryBody()
    return await ui_views.flows_summary(conn, body.flow_ids, body.at_most)
