"""When a store refuses a batch of run records: make its text valid, then find the bad record.

A batch is refused for what it holds, not for an outage: a string Python
cannot encode as UTF-8 (a lone surrogate, which ``os.fsdecode`` gives for a
non-UTF-8 file name), a value nested too deeply to serialise, a value the
database refuses. Three rules, applied by the recorder in this order:

1. `sanitize`: text is made valid in a documented way, and nothing else
   changes: a lone surrogate becomes the six characters ``\\udcxx`` (Python's
   ``backslashreplace``), and a JSON value nested deeper than `MAX_DEPTH`
   levels is replaced by a short text saying so. Most refused batches are
   then stored whole.
2. `split_units`: otherwise the batch is cut into units, one per run (the
   run, its states and its log lines), flow runs before task runs, so that
   bisecting (`halves`) finds the refused units in a few sends and stores
   every other one.
3. A unit still refused alone is retried without its log lines and each
   line alone (`finer`); what is left is set aside by the recorder, alone,
   with its reason.

Batches are in the ``POST /api/records/batch`` shape: ``flows``,
``flow_runs``, ``logs`` and ``liveness`` as lists of rows; ``task_runs`` and ``states``
as columns (a dict of equal-length lists) or as rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

__all__ = ["MAX_DEPTH", "finer", "halves", "merge", "sanitize", "split_units",
           "store_isolating"]

MAX_DEPTH = 64
"""Deepest nesting of a JSON value (parameters, state details) stored as it is."""

_PARTS = ("flows", "flow_runs", "task_runs", "states", "logs", "liveness")


# ---------------------------------------------------------------------- valid text
def valid_text(text: str) -> str:
    """``text``, with each lone surrogate escaped as ``\\udcxx`` (the text is otherwise kept)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _deep(value: Any) -> str:
    return f"<{type(value).__name__} nested deeper than {MAX_DEPTH} levels: not stored>"


def sanitize(value: Any, depth: int = 0) -> Any:
    """A copy of JSON ``value`` with every string made valid and deep nesting cut (rule 1)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return _deep(value)
        return {valid_text(str(k)): sanitize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return _deep(value)
        return [sanitize(v, depth + 1) for v in value]
    return value


# ---------------------------------------------------------------------- units
def _rows(part: Any) -> list[dict[str, Any]]:
    """Rows of a part given as rows or as columns."""
    if isinstance(part, dict):
        columns = list(part)
        count = len(part[columns[0]]) if columns else 0
        return [{c: part[c][i] for c in columns} for i in range(count)]
    return list(part or [])


def _columns(rows: list[dict[str, Any]], like: Any) -> Any:
    """``rows`` in the shape ``like`` had: columns when it was columns."""
    if not isinstance(like, dict):
        return rows
    return {c: [r.get(c) for r in rows] for c in like}


class _Unit:
    __slots__ = ("flow_runs", "flows", "liveness", "logs", "states", "task_runs")

    def __init__(self) -> None:
        self.flows: list[dict[str, Any]] = []
        self.flow_runs: list[dict[str, Any]] = []
        self.task_runs: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.liveness: list[dict[str, Any]] = []


def split_units(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """One batch per run (its row, states, log lines, liveness row), flow runs first (rule 2).

    Units keep the batch's order within each kind; a flow run comes before
    the task runs that name it, so storing the units in order never names a
    run that is not stored yet.
    """
    flows = {f["name"]: f for f in _rows(batch.get("flows"))}
    units: dict[tuple[str, str], _Unit] = {}

    def unit(kind: str, key: str) -> _Unit:
        found = units.get((kind, key))
        if found is None:
            found = units[(kind, key)] = _Unit()
        return found

    for run in _rows(batch.get("flow_runs")):
        u = unit("flow", str(run["id"]))
        u.flow_runs.append(run)
        if run.get("flow_name") in flows:
            u.flows.append(flows.pop(run["flow_name"]))
    for run in _rows(batch.get("task_runs")):
        unit("task", str(run["id"])).task_runs.append(run)
    for state in _rows(batch.get("states")):
        kind = "task" if state.get("run_kind") == "task" else "flow"
        unit(kind, str(state.get("run_id"))).states.append(state)
    for line in _rows(batch.get("logs")):
        if line.get("task_run_id") is not None:
            unit("task", str(line["task_run_id"])).logs.append(line)
        elif line.get("flow_run_id") is not None:
            unit("flow", str(line["flow_run_id"])).logs.append(line)
        else:
            unit("log", str(line.get("id"))).logs.append(line)
    for live in _rows(batch.get("liveness")):
        unit("flow", str(live.get("flow_run_id"))).liveness.append(live)
    for name, flow in flows.items():  # flows no run of this batch names
        unit("flowdef", name).flows.append(flow)
    order = {"flowdef": 0, "flow": 1, "task": 2, "log": 3}
    ranked = sorted(units.items(), key=lambda item: order[item[0][0]])  # stable
    return [_batch(u, batch) for _, u in ranked]


def _batch(unit: _Unit, like: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in _PARTS:
        rows = getattr(unit, part)
        if rows:
            out[part] = _columns(rows, like.get(part))
    return out


def merge(units: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch holding every unit, in order."""
    rows: dict[str, list[dict[str, Any]]] = {part: [] for part in _PARTS}
    shapes: dict[str, Any] = {}
    for u in units:
        for part in _PARTS:
            if part in u:
                shapes.setdefault(part, u[part])
                rows[part] += _rows(u[part])
    return {part: _columns(rows[part], shapes[part]) for part in _PARTS if rows[part]}


def halves(units: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The two halves of ``units``, in order."""
    middle = len(units) // 2
    yield units[:middle]
    yield units[middle:]


def finer(unit: dict[str, Any]) -> list[dict[str, Any]]:
    """A unit as its run rows and states, then each log line alone; [unit] when it is one thing."""
    lines = _rows(unit.get("logs"))
    rest = {part: rows for part, rows in unit.items() if part != "logs"}
    pieces = ([rest] if rest else []) + [{"logs": [line]} for line in lines]
    return pieces if len(pieces) > 1 else [unit]


# ---------------------------------------------------------------------- the driver
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def store_isolating(send: Send, batch: dict[str, Any], *,
                          is_permanent: Callable[[BaseException], bool],
                          set_aside: Callable[[dict[str, Any], BaseException], None]) -> None:
    """Store a refused batch by the three rules: valid text, then every unit the store accepts.

    Args:
        send: Stores one batch; raises when it cannot.
        batch: The refused batch.
        is_permanent: Whether an exception is a refusal of the content (else
            an outage: it is raised, the caller keeps the batch and sends it
            again later; what was stored is stored again as no-ops).
        set_aside: Keeps a unit refused alone, with its refusal.
    """
    clean = sanitize(batch)
    if clean != batch:
        try:
            await send(clean)
            return
        except Exception as exc:
            if not is_permanent(exc):
                raise
    await _bisect(send, split_units(clean), is_permanent, set_aside)


async def _bisect(send: Send, units: list[dict[str, Any]],
                  is_permanent: Callable[[BaseException], bool],
                  set_aside: Callable[[dict[str, Any], BaseException], None]) -> None:
    try:
        await send(merge(units))
        return
    except Exception as exc:
        if not is_permanent(exc):
            raise
        refusal = exc
    if len(units) > 1:
        for half in halves(units):
            await _bisect(send, half, is_permanent, set_aside)
        return
    pieces = finer(units[0])
    if len(pieces) > 1:
        for piece in pieces:
            await _bisect(send, [piece], is_permanent, set_aside)
        return
    set_aside(units[0], refusal)
