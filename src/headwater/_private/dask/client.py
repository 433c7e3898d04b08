"""``get_dask_client()``: a Dask client inside a task run, for tasks that submit Dask work.

In a task run on a Dask worker it is Dask's ``worker_client()``: the task
leaves the worker's thread pool while it waits on the work it submitted, so
a cluster whose every thread runs such a task cannot deadlock. In a flow run
using a :class:`~headwater._private.dask.runner.DaskTaskRunner`, it is a new
client of that flow run's scheduler.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from headwater._private.dask.cluster import require_distributed


def _scheduler_address() -> str | None:
    """The scheduler of the worker running this task, or of the current flow run's runner."""
    distributed = require_distributed()
    try:
        return str(distributed.get_worker().scheduler.address)
    except ValueError:
        pass
    from headwater._private.context import flow_run_ctx
    from headwater._private.dask.runner import DaskTaskRunner

    ctx = flow_run_ctx.get()
    runner = ctx.task_runner if ctx is not None else None
    if isinstance(runner, DaskTaskRunner) and runner._session is not None:
        return str(runner.client.scheduler.address)
    return None


def _no_cluster() -> RuntimeError:
    return RuntimeError("get_dask_client() works inside a task run on a DaskTaskRunner, or in "
                        "a flow run that uses one; here there is no Dask cluster to connect "
                        "to. Use distributed.Client(address) to connect to one yourself.")


@contextlib.contextmanager
def get_dask_client(timeout: float | str | None = None, **client_kwargs: Any) -> Iterator[Any]:
    """Yield a synchronous ``distributed.Client`` of the cluster running this task run.

    Use it to compute Dask collections (``dask.dataframe``, ``dask.bag``) or
    submit Dask work from inside a task; without it, Dask would compute them
    inside the one worker running the task. Prefect 2's ``prefect_dask``
    calls it ``prefect_dask.get_dask_client``; here it is
    ``headwater.dask.get_dask_client``.

    Args:
        timeout: Seconds to wait for the connection (Dask's default if None).
        client_kwargs: More keyword arguments for ``distributed.Client``.

    Raises:
        RuntimeError: Not in a task run on a Dask worker nor in a flow run using a DaskTaskRunner.
    """
    distributed = require_distributed()
    on_worker = True
    try:
        distributed.get_worker()
    except ValueError:
        on_worker = False
    if on_worker and not client_kwargs:
        with distributed.worker_client(timeout=timeout) as client:
            yield client
        return
    address, options = _connection(timeout, client_kwargs)
    with distributed.Client(address, **options) as client:
        yield client


@contextlib.asynccontextmanager
async def get_async_dask_client(timeout: float | str | None = None,
                                **client_kwargs: Any) -> AsyncIterator[Any]:
    """Yield an asynchronous ``distributed.Client`` of the cluster running this task run.

    The async twin of :func:`get_dask_client`, for async tasks (``await
    client.submit(...)``).

    Raises:
        RuntimeError: Not in a task run on a Dask worker nor in a flow run using a DaskTaskRunner.
    """
    distributed = require_distributed()
    address, options = _connection(timeout, client_kwargs)
    async with distributed.Client(address, asynchronous=True, **options) as client:
        yield client


def _connection(timeout: float | str | None,
                client_kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The scheduler address of this run's cluster and the options of a new client of it."""
    address = _scheduler_address()
    if address is None:
        raise _no_cluster()
    options: dict[str, Any] = {"set_as_default": False, **client_kwargs}
    if timeout is not None:
        options["timeout"] = timeout
    return address, options
