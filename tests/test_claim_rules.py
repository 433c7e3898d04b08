"""The claim rule (which scheduled runs a worker may take): pure, so tested on made-up pools."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from headwater._private.storage.claim_rules import (
    Candidate,
    PoolView,
    QueueView,
    choose,
    label_mismatch,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
LABELS = st.lists(st.sampled_from(["gpu", "linux", "eu", "big"]), max_size=3, unique=True)


def run(minute: int = 0, queue: str | None = None, labels: tuple[str, ...] = ()) -> Candidate:
    return Candidate(uuid.uuid4(), 1, T0 + dt.timedelta(minutes=minute), queue, labels)


QUEUES = {"default": QueueView("default", 2), "urgent": QueueView("urgent", 1)}


def test_queues_by_priority_then_runs_by_time() -> None:
    late, early, urgent = run(5), run(1), run(9, "urgent")
    chosen = choose([late, early, urgent], pool=PoolView("p"), queues=QUEUES, worker_labels=[],
                    active_in_pool=0, active_by_queue={})
    assert chosen == [urgent, early, late]


def test_a_paused_pool_or_queue_gives_nothing() -> None:
    runs = [run(), run(queue="urgent")]
    assert choose(runs, pool=PoolView("p", is_paused=True), queues=QUEUES, worker_labels=[],
                  active_in_pool=0, active_by_queue={}) == []
    paused = {**QUEUES, "urgent": QueueView("urgent", 1, is_paused=True)}
    assert choose(runs, pool=PoolView("p"), queues=paused, worker_labels=[], active_in_pool=0,
                  active_by_queue={}) == [runs[0]]


def test_runs_without_labels_need_a_pool_that_allows_them() -> None:
    plain = run()
    assert choose([plain], pool=PoolView("p"), queues=QUEUES, worker_labels=["gpu"],
                  active_in_pool=0, active_by_queue={}) == [plain]
    assert choose([plain], pool=PoolView("p", require_labels=True), queues=QUEUES,
                  worker_labels=["gpu"], active_in_pool=0, active_by_queue={}) == []
    assert "requires labels" in (label_mismatch([], ["gpu"], True) or "")


def test_a_mismatch_names_both_sets() -> None:
    reason = label_mismatch(["gpu", "eu"], ["linux", "gpu"], False)
    assert reason == ("the run requires labels ['eu', 'gpu'], the worker offers "
                      "['gpu', 'linux'] (missing ['eu'])")


@given(runs=st.lists(st.tuples(st.integers(0, 60), st.sampled_from([None, "urgent"]), LABELS),
                     max_size=25),
       worker=LABELS, pool_limit=st.none() | st.integers(0, 6),
       queue_limit=st.none() | st.integers(0, 6), active=st.integers(0, 4),
       require=st.booleans(), limit=st.none() | st.integers(1, 10))
def test_choices_respect_labels_and_every_limit(
        runs: list[tuple[int, str | None, list[str]]], worker: list[str],
        pool_limit: int | None, queue_limit: int | None, active: int, require: bool,
        limit: int | None) -> None:
    candidates = [run(m, q, tuple(labels)) for m, q, labels in runs]
    queues = {**QUEUES, "urgent": QueueView("urgent", 1, concurrency_limit=queue_limit)}
    pool = PoolView("p", concurrency_limit=pool_limit, require_labels=require)
    chosen = choose(candidates, pool=pool, queues=queues, worker_labels=worker,
                    active_in_pool=active, active_by_queue={"urgent": active}, limit=limit)
    assert len(set(chosen)) == len(chosen)
    for candidate in chosen:
        assert set(candidate.labels) <= set(worker)
        assert candidate.labels or not require
    if pool_limit is not None:
        assert len(chosen) <= max(0, pool_limit - active)
    if queue_limit is not None:
        assert sum(c.queue_name == "urgent" for c in chosen) <= max(0, queue_limit - active)
    if limit is not None:
        assert len(chosen) <= limit
    # Nothing eligible is left out while there is room everywhere.
    if pool_limit is None and queue_limit is None and limit is None:
        eligible = [c for c in candidates if label_mismatch(c.labels, worker, require) is None]
        assert {c.id for c in chosen} == {c.id for c in eligible}
