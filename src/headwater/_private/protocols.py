"""What the lower layers know of tasks, flows and jobs: small protocols, no imports upward.

``Task``, ``Flow`` (``tasks.py``, ``flows.py``) and ``TaskJob`` (the engine)
sit above the modules that hold them: run contexts, futures, runners. Those
modules type against the protocols here, which name exactly the attributes
they use; the real classes satisfy them structurally (mypy checks it where
the engine hands them over), so nothing below the engine imports it.

Protocols are annotations only: nothing here costs anything at run time.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from headwater._private.states import State


class TaskLike(Protocol):
    """A task as a run context shows it (``get_run_context().task``) to cache policies."""

    @property
    def name(self) -> str:
        """The task's name."""
        ...

    @property
    def fn(self) -> Callable[..., Any]:
        """The undecorated function."""
        ...

    @property
    def task_key(self) -> str:
        """The function's module and qualified name: the task's identity across runs."""
        ...


class FlowOptionsView(Protocol):
    """The flow options read below the engine: result defaults for its tasks, the version."""

    @property
    def version(self) -> str | None:
        """The flow's version."""
        ...

    @property
    def persist_result(self) -> bool | None:
        """Whether the flow's runs persist results (None: decided by other options)."""
        ...

    @property
    def result_storage(self) -> Any:
        """The flow's result storage option, as given (a storage, a path, or None)."""
        ...

    @property
    def result_serializer(self) -> Any:
        """The flow's result serializer option, as given (a serializer, a name, or None)."""
        ...


class FlowLike(Protocol):
    """A flow as a run context shows it (``get_run_context().flow``)."""

    @property
    def name(self) -> str:
        """The flow's name."""
        ...

    @property
    def options(self) -> FlowOptionsView:
        """The flow's options (a ``FlowOptions``)."""
        ...


class RunnableJob(Protocol):
    """A submitted task run as runners, futures and the flow's tracker handle it.

    ``TaskJob`` (``engine/task_job.py``) is the one implementation.
    """

    loop: asyncio.AbstractEventLoop | None
    """The loop an async job runs on (set by the runner when the flow has none)."""
    async_task: asyncio.Future[Any] | None
    """The asyncio task running an async job, while it runs."""

    @property
    def is_async(self) -> bool:
        """Whether the task is a coroutine function."""
        ...

    @property
    def context(self) -> contextvars.Context | None:
        """The contextvars of the ``submit()`` call, to run the job in."""
        ...

    def try_claim(self) -> bool:
        """Return True for the one caller allowed to run the job."""
        ...

    def execute(self) -> State[Any]:
        """Run the claimed sync job to its final state in the calling thread."""
        ...

    async def execute_async(self) -> None:
        """Run the async job on the running loop, unless another caller claimed it."""
        ...

    async def execute_async_claimed(self) -> State[Any]:
        """Run the claimed async job to its final state on the running loop."""
        ...

    def needs_current_loop(self) -> bool:
        """Return True when the async job runs on the calling thread's event loop."""
        ...

    def help(self) -> bool:
        """Run the job in the calling thread if nobody claimed it; True if it did."""
        ...

    def wait_done(self) -> None:
        """Block until the job's run is final."""
        ...

    async def wait_done_async(self) -> None:
        """Wait until the job's run is final, without blocking the loop."""
        ...
