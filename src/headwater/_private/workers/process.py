"""`ProcessWorker`: executes each claimed run as a subprocess in a new process group.

The command is ``python -m headwater.engine`` with ``HEADWATER__FLOW_RUN_ID``
set (Prefect 2's spelling), which loads the run's deployment and runs the
flow as that run. Each run gets a process group of its own, so cancelling a
run stops everything it started (SIGTERM to the group, then SIGKILL after
``HEADWATER_WORKER_CANCEL_GRACE_SECONDS``), and a lifeline
(:mod:`~headwater._private.lifeline`): a run does not outlive its worker,
even one killed with ``kill -9`` (POSIX; on Windows it does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from headwater._private.lifeline import Lifeline, open_lifeline
from headwater._private.workers.base import BaseWorker

__all__ = ["FLOW_RUN_ID_ENV", "ProcessWorker"]

#: The variable that names the flow run a ``python -m headwater.engine`` process executes.
FLOW_RUN_ID_ENV = "HEADWATER__FLOW_RUN_ID"


class ProcessWorker(BaseWorker):
    """A worker that runs each flow run in a local subprocess.

    Args:
        command: The command to run (default: ``python -m headwater.engine``);
            it gets ``HEADWATER__FLOW_RUN_ID`` in its environment.
        env: Variables added to the subprocess's environment.
        **options: See `BaseWorker`.
    """

    type: ClassVar[str] = "process"

    def __init__(self, work_pool_name: str, *, command: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None, **options: Any) -> None:
        super().__init__(work_pool_name, **options)
        self.command = list(command) if command is not None else [sys.executable, "-m",
                                                                   "headwater.engine"]
        self.env = dict(env or {})
        self._lifelines: dict[int, Lifeline] = {}  # by the run process's pid

    async def launch(self, flow_run: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Start the command for ``flow_run`` in a new process group."""
        return self.spawn(str(flow_run["id"]))

    def spawn(self, flow_run_id: str) -> subprocess.Popen[bytes]:
        """Start the command (fork and exec: it does not wait for the child)."""
        env = {**os.environ, **self.env, FLOW_RUN_ID_ENV: flow_run_id}
        if sys.platform == "win32":
            return subprocess.Popen(self.command, env=env,
                                    creationflags=subprocess.CREATE_NEW_PROCESS_GROUP)
        line = open_lifeline()
        if line is None:
            return subprocess.Popen(self.command, env=env, start_new_session=True)
        try:
            process = subprocess.Popen(self.command, env={**env, **line.child_env()},
                                       start_new_session=True, pass_fds=(line.read_fd,))
        except BaseException:
            line.cut()
            raise
        line.handed_over()
        self._lifelines[process.pid] = line
        return process

    def exit_code(self, handle: subprocess.Popen[bytes]) -> int | None:
        """The subprocess's exit code (negative: killed by that signal); None while it runs."""
        return handle.poll()

    def pid_of(self, handle: subprocess.Popen[bytes]) -> int | None:
        """The run process's pid (it is on this host)."""
        return handle.pid

    def release(self, handle: subprocess.Popen[bytes]) -> None:
        """The run's process ended: close the worker's end of its lifeline."""
        line = self._lifelines.pop(handle.pid, None)
        if line is not None:
            line.cut()

    def terminate(self, handle: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the run's process group."""
        self._signal(handle, signal.SIGTERM)

    def kill(self, handle: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the run's process group."""
        self._signal(handle, getattr(signal, "SIGKILL", signal.SIGTERM))

    @staticmethod
    def _signal(handle: subprocess.Popen[bytes], sig: int) -> None:
        if sys.platform == "win32":
            handle.send_signal(signal.CTRL_BREAK_EVENT if sig == signal.SIGTERM else sig)
            return
        try:
            os.killpg(handle.pid, sig)  # the group's id is its leader's pid
        except (ProcessLookupError, PermissionError):
            pass  # it has ended meanwhile
