"""Dask: run a flow's tasks on a Dask cluster (``pip install "headwater[dask]"``).

Prefect 2 users know these names from the ``prefect-dask`` package
(``from prefect_dask import DaskTaskRunner, get_dask_client``); here they
are ``from headwater.dask import DaskTaskRunner, get_dask_client``, and
``DaskTaskRunner`` is also in ``headwater.task_runners``. Importing this
module does not import dask: that happens when a flow run starts the runner.

Example:
    >>> from headwater import flow, task
    >>> from headwater.dask import DaskTaskRunner
    >>> @task
    ... def square(x: int) -> int:
    ...     return x * x
    >>> @flow(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2}))
    ... def squares(n: int) -> list[int]:
    ...     return square.map(range(n)).result()
"""

from headwater._private.dask.client import get_async_dask_client, get_dask_client
from headwater._private.dask.runner import DaskTaskRunner

__all__ = ["DaskTaskRunner", "get_async_dask_client", "get_dask_client"]

for _name in __all__:
    globals()[_name].__module__ = __name__  # tracebacks, docs and pickles say headwater.dask
del _name
