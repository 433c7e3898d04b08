"""What travels to a Dask worker and back, pickled by headwater before Dask sees it.

Pickling here, once, is the check and the transport: a call whose arguments
cannot be pickled fails its task run with a message that names the task, the
argument and its type, and the usual fix, instead of Dask's deep traceback
from inside its serializer. The task itself is pickled once per task (not
once per run), the flow run record and the flow process's settings once per
flow run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import cloudpickle

from headwater._private.engine.remote import RemoteCall
from headwater.exceptions import SerializationError

FIX = ("Objects such as clients, connections, locks and open files cannot travel to a Dask "
       "worker: create them inside the task (or pass what is needed to create them, such as "
       "a URL or a path).")


def pack_task(task: Any) -> bytes:
    """Pickle a task (its function and options) to send with each of its runs.

    Raises:
        SerializationError: The task cannot be pickled (the message says why).
    """
    try:
        return cloudpickle.dumps(task)  # type: ignore[no-any-return]
    except Exception as exc:
        raise SerializationError(
            f"Task {task.name!r} cannot be sent to a Dask worker: its function or options "
            f"cannot be pickled ({type(exc).__name__}: {exc}). {FIX}") from exc


def pack_call(call: RemoteCall, task: Any) -> bytes:
    """Pickle a call without its task and flow run (sent apart, pickled once each).

    Raises:
        SerializationError: An argument cannot be pickled; the message names
            the task, the argument and its type.
    """
    flow_run, call.flow_run = call.flow_run, None
    try:
        return cloudpickle.dumps(call)  # type: ignore[no-any-return]
    except Exception as exc:
        raise _culprit(call, task, exc) from exc
    finally:
        call.flow_run = flow_run


def pack_flow_run(flow_run: Any, task: Any) -> bytes:
    """Pickle the flow run record (its parameters included) once for all its task runs.

    Raises:
        SerializationError: A flow parameter cannot be pickled (tasks see them).
    """
    try:
        return cloudpickle.dumps(flow_run)  # type: ignore[no-any-return]
    except Exception as exc:
        for name, value in flow_run.parameters.items():
            if not _pickles(value):
                raise SerializationError(
                    f"Task {task.name!r} cannot be sent to a Dask worker: the flow parameter "
                    f"{name!r} is a {type(value).__module__}.{type(value).__qualname__}, which "
                    f"cannot be pickled (task runs see the flow run's parameters). {FIX}"
                ) from exc
        raise SerializationError(f"Task {task.name!r} cannot be sent to a Dask worker: its "
                                 f"flow run cannot be pickled ({type(exc).__name__}: {exc})."
                                 ) from exc


def _culprit(call: RemoteCall, task: Any, error: Exception) -> SerializationError:
    try:
        named = task.bind(call.args, call.kwargs)
    except Exception:
        named = {**{str(i): a for i, a in enumerate(call.args)}, **call.kwargs}
    for name, value in named.items():
        if not _pickles(value):
            return SerializationError(
                f"Task {task.name!r} cannot be sent to a Dask worker: its argument {name!r} "
                f"is a {type(value).__module__}.{type(value).__qualname__}, which cannot be "
                f"pickled ({type(error).__name__}: {error}). {FIX}")
    return SerializationError(f"Task {task.name!r} cannot be sent to a Dask worker: "
                              f"{type(error).__name__}: {error}. {FIX}")


def _pickles(value: Any) -> bool:
    try:
        cloudpickle.dumps(value)
    except Exception:
        return False
    return True


def unpicklable_result_error(task_name: str, value: Any, error: Exception) -> SerializationError:
    """The error of a run whose result cannot be pickled back to the flow's process."""
    return SerializationError(
        f"Task {task_name!r} returned a {type(value).__module__}.{type(value).__qualname__}, "
        f"which cannot be pickled back from the Dask worker to the flow's process "
        f"({type(error).__name__}: {error}). Return plain data (numbers, strings, lists, "
        "dicts, dataframes...) and keep clients, connections and open files inside the task; "
        "or persist the result to storage (persist_result=True) and return what locates it.")


def settings_snapshot() -> tuple[tuple[str, str], ...]:
    """The flow process's headwater settings as ``HEADWATER_*`` pairs, for the workers.

    Environment variables, ``temporary_settings`` overrides and the home
    directory: a worker runs the flow's tasks with the same target (database
    or API), result storage and logging as the flow's process, whatever its
    own environment says.
    """
    from headwater._private.settings import get_current_settings
    from headwater._private.settings.current import current_overrides
    from headwater._private.settings.fields import is_logging_override, setting_fields

    known = setting_fields()
    pairs = {k: v for k, v in os.environ.items()
             if k.startswith("HEADWATER_") and (k in known or is_logging_override(k))}
    for key, value in current_overrides().items():
        text = _as_text(value)
        if text is None:
            pairs.pop(key, None)
        else:
            pairs[key] = text
    pairs["HEADWATER_HOME"] = str(get_current_settings().home)
    return tuple(sorted(pairs.items()))


def _as_text(value: Any) -> str | None:
    from headwater._private.settings.sources import RESTORE_DEFAULT

    if value is RESTORE_DEFAULT:
        return None
    secret = getattr(value, "get_secret_value", None)
    if callable(secret):
        return str(secret())
    if isinstance(value, list | tuple | dict | set | frozenset):
        return json.dumps(sorted(value) if isinstance(value, set | frozenset) else value,
                          default=str)
    return str(value)
