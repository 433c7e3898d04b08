"""Queued record tuples straight to SQLite's stored values (embedded mode).

The embedded transport writes :class:`~headwater._private.storage.prepared.Prepared`
records, made here in one pass over the recorder's queue: no API-shaped
JSON in between (that shape is made only when a batch must be kept on
disk, see ``payload.py``). Runs in the recorder's thread; the cost per task
run (one run, three states) is a few microseconds, and it is the part of
recording that holds the GIL, so it is kept to plain loops and local names.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from typing import Any

from headwater._private.ids import new_id_block
from headwater._private.recording.payload import json_safe, state_details_dict
from headwater._private.recording.recorder import FLOW_RUN, LIVE, LOGS, STATE, TASK_RUN
from headwater._private.storage.prepared import MAX_INDEXED_CACHE_KEY, Prepared
from headwater._private.storage.processes import process_identity
from headwater._private.storage.stored_values import NULL, stored_time

__all__ = ["prepare_items"]

_UTC = _dt.timezone.utc

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MICROSECOND = _dt.timedelta(microseconds=1)
_SECOND_TEXTS: dict[int, str] = {}  # "YYYY-MM-DD HH:MM:SS" by Unix second: runs share a few


def _micros(value: _dt.datetime) -> int:
    """A time as whole microseconds since the epoch (a naive time is taken as UTC)."""
    return ((value if value.tzinfo is not None else value.replace(tzinfo=_UTC)) - _EPOCH
            ) // _MICROSECOND


def _second_text(second: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` of a Unix second, remembered: a batch's records share a few."""
    if len(_SECOND_TEXTS) > 256:
        _SECOND_TEXTS.clear()
    text = _SECOND_TEXTS[second] = (
        _EPOCH + _dt.timedelta(seconds=second)).replace(tzinfo=None).isoformat(" ")
    return text


def _text(micros: int) -> str:
    """Stored text of a time in microseconds (:func:`stored_time`), at a third of its cost."""
    second, fraction = divmod(micros, 1_000_000)
    return f"{_SECOND_TEXTS.get(second) or _second_text(second)}.{fraction:06d}"


def _time(value: _dt.datetime) -> str:
    return _text(_micros(value))


def _details(details: Any) -> str:
    # Called only for states that carry more than run ids (most do not).
    return json.dumps(state_details_dict(details))


def prepare_items(items: Iterable[tuple[Any, ...]]) -> Prepared:
    """Turn queued items (see ``recorder.py``) into stored values, in queue order.

    No bookkeeping here: the storage core computes each run's book from the
    stored values when it writes the batch (``record_statements``), with the
    one rule every write path uses.

    This loop holds the GIL while the flow runs, so the common item (a state
    change) is handled inline, with local names only.
    """
    out = Prepared()
    out.fresh = True  # straight from the queue: never stored (a failed batch is resent as JSON)
    runs: dict[int, str] = {}  # stored id by run id (UUID.int, as queued)
    states = out.states
    append = states.append
    block = new_id_block()
    second_texts, second_text = _SECOND_TEXTS, _second_text
    epoch, microsecond, utc = _EPOCH, _MICROSECOND, _UTC

    # Values are bound as plain ``str`` and ``NULL``, never ``None`` or enums:
    # those bind several times slower (see ``record_statements``).
    for item in items:
        if item[0] != STATE:
            _created(item, out, runs)
            continue
        _, run_id, is_task, type_, name, message, timestamp, details = item
        run_hex = runs.get(run_id)
        if run_hex is None:
            run_hex = runs[run_id] = f"{run_id:032x}"
        i = len(states)
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=utc)
        ts = (timestamp - epoch) // microsecond  # exact whole microseconds
        second, fraction = divmod(ts, 1_000_000)
        state_id = f"{block + i:032x}"
        text = f"{second_texts.get(second) or second_text(second)}.{fraction:06d}"
        if details is None:
            details_text = "{}"
        else:  # rare: more than run ids
            details_text = _details(details)
            key = details.cache_key
            if (key is not None and len(key) <= MAX_INDEXED_CACHE_KEY
                    and type_ == "COMPLETED" and is_task):
                out.cache.append((key, state_id, run_hex, text,
                                  _time(details.cache_expiration)
                                  if details.cache_expiration is not None else NULL))
        append((state_id, run_hex, is_task, type_,
                name if name is not None else type_.capitalize(), text,
                message if message is not None else NULL, details_text, NULL))
    return out


def _created(item: tuple[Any, ...], out: Prepared, runs: dict[int, str]) -> None:
    """Add a run's creation (or a log batch, or a run's liveness row) to ``out``."""
    kind = item[0]
    if kind == TASK_RUN:
        _, run_id, flow_run_id, task_key, task_name, dynamic_key, name, tags, expected = item
        run_hex = runs[run_id] = f"{run_id:032x}"
        out.task_runs.append((
            run_hex, name, f"{flow_run_id:032x}" if flow_run_id is not None else NULL,
            task_key, task_name, dynamic_key, NULL, NULL,
            json.dumps(sorted(tags)) if tags else "[]", _time(expected)))
    elif kind == FLOW_RUN:
        _, flow_run, name, parameters = item
        run_hex = runs[flow_run.id.int] = flow_run.id.hex
        out.flow_names.add(flow_run.flow_name)
        parent_task, parent_flow = flow_run.parent_task_run_id, flow_run.parent_flow_run_id
        out.flow_runs.append((
            run_hex, name, flow_run.flow_name, NULL, json.dumps(json_safe(parameters)),
            json.dumps(list(flow_run.tags)), parent_task.hex if parent_task else NULL,
            parent_flow.hex if parent_flow else NULL, _time(flow_run.expected_start_time)))
    elif kind == LIVE:
        host, pid, token = process_identity()
        out.liveness.append((f"{item[1]:032x}", host, pid, token, item[2]))
    elif kind == LOGS:
        block = new_id_block()
        out.logs.extend(
            (f"{block + i:032x}", r["name"], r["level"], _hex(r.get("flow_run_id")),
             _hex(r.get("task_run_id")), r["message"], _log_time(r["timestamp"]))
            for i, r in enumerate(item[1]))


def _log_time(text: str) -> str:
    """Stored text of a log line's time: the handler's UTC ISO text (32 characters) is sliced."""
    if len(text) == 32 and text.endswith("+00:00"):
        return f"{text[:10]} {text[11:26]}"
    return stored_time(text)


def _hex(value: Any) -> str | int:
    """A run id given as text or UUID, as stored (``NULL`` for none)."""
    if value is None:
        return NULL
    return value.replace("-", "") if isinstance(value, str) else str(value.hex)
