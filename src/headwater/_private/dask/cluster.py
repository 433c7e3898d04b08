"""The Dask cluster of a flow run: options checked up front, cluster made and connected at start.

No address and no cluster class: a temporary ``distributed.LocalCluster``
with worker processes (not threads: the GIL would serialize Python tasks).
An address: connect to that scheduler. A cluster class: a class, its import
path as a string (``"dask_kubernetes.KubeCluster"``), or any callable
returning a cluster; it is called with ``cluster_kwargs`` at the flow run's
start, inside the flow run's context, so a factory can size the cluster
from the flow's parameters (``headwater.runtime.flow_run.parameters``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

MISSING_EXTRA = (
    "The DaskTaskRunner needs dask and distributed: install them with "
    "pip install \"headwater[dask]\"."
)


def require_distributed() -> Any:
    """Import ``distributed``, or raise an ImportError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(MISSING_EXTRA) from exc
    return distributed


def check_options(address: Any, cluster_class: Any, cluster_kwargs: Any, adapt_kwargs: Any,
                  client_kwargs: Any) -> None:
    """Raise ValueError/TypeError for options that cannot work together.

    Raises:
        ValueError: ``address`` with a cluster class or cluster options.
        TypeError: An option of the wrong type.
    """
    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be a scheduler address such as "
                        f"'tcp://10.0.0.5:8786', got {address!r}.")
    if cluster_class is not None and not (isinstance(cluster_class, str)
                                          or callable(cluster_class)):
        raise TypeError(f"cluster_class must be a cluster class, its import path as a string, "
                        f"or a callable returning a cluster, got {cluster_class!r}.")
    for name, value in (("cluster_kwargs", cluster_kwargs), ("adapt_kwargs", adapt_kwargs),
                        ("client_kwargs", client_kwargs)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict of keyword arguments, got {value!r}.")
    if address is not None and (cluster_class is not None or cluster_kwargs
                                or adapt_kwargs):
        raise ValueError("Give either address (connect to a running Dask scheduler) or "
                         "cluster_class/cluster_kwargs/adapt_kwargs (start a cluster for the "
                         "flow run), not both.")
    if client_kwargs and "address" in client_kwargs:
        raise ValueError("Pass the scheduler's address as DaskTaskRunner(address=...), not in "
                         "client_kwargs.")


def resolve_cluster_class(cluster_class: Any) -> Callable[..., Any]:
    """The cluster factory: ``LocalCluster`` by default, or the class an import path names.

    Raises:
        ValueError: An import path that names nothing importable.
    """
    if cluster_class is None:
        return require_distributed().LocalCluster  # type: ignore[no-any-return]
    if not isinstance(cluster_class, str):
        return cluster_class  # type: ignore[no-any-return]
    module_name, _, attr = cluster_class.rpartition(".")
    try:
        if not module_name:
            raise ImportError(f"{cluster_class!r} has no module part")
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cluster_class {cluster_class!r} could not be imported ({exc}). Give "
                         "the full import path, such as 'dask_kubernetes.KubeCluster', and "
                         "install the package that provides it.") from exc
    if not callable(found):
        raise ValueError(f"cluster_class {cluster_class!r} names {found!r}, which cannot be "
                         "called to make a cluster.")
    return found  # type: ignore[no-any-return]


def open_client(address: str | None, cluster_class: Any, cluster_kwargs: Mapping[str, Any],
                adapt_kwargs: Mapping[str, Any], client_kwargs: Mapping[str, Any],
                ) -> tuple[Any, Any]:
    """Connect to ``address``, or make the cluster and connect to it.

    Returns:
        ``(client, cluster)``; the cluster is None when connecting to an address
        (it is not ours to close).
    """
    distributed = require_distributed()
    kwargs = {"set_as_default": False, **client_kwargs}
    if address is not None:
        return distributed.Client(address, **kwargs), None
    factory = resolve_cluster_class(cluster_class)
    options = dict(cluster_kwargs)
    if factory is distributed.LocalCluster:
        options.setdefault("processes", True)
    cluster = factory(**options)
    try:
        if adapt_kwargs:
            cluster.adapt(**adapt_kwargs)
        return distributed.Client(cluster, **kwargs), cluster
    except BaseException:
        cluster.close()
        raise
