"""Running task runs on Dask's distributed scheduler (the ``headwater[dask]`` extra).

- ``runner.py``: :class:`DaskTaskRunner`, the flow process's side: one Dask
  client (and maybe a temporary cluster) per flow run, jobs sent as pickled
  :class:`~headwater._private.engine.remote.RemoteCall` s, outcomes applied
  as they come back, worker log lines printed here.
- ``cluster.py``: the options (address or cluster class) checked, the
  cluster made and connected to.
- ``shipping.py``: pickling a call before it travels, and the message naming
  the argument that cannot be pickled.
- ``worker.py``: the worker's side: settings and recorder of the flow's
  process, the task machine, log lines stamped with the worker's address.
- ``client.py``: ``get_dask_client()`` / ``get_async_dask_client()`` for tasks.

Nothing here imports ``dask`` or ``distributed`` at import time: ``import
headwater`` stays light, and the extra is needed only when a flow uses the
runner.
"""
