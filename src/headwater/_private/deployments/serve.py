"""``serve``: one process that registers deployments, schedules them and runs their runs.

Every ``HEADWATER_RUNNER_POLL_SECONDS`` the process asks the API to schedule
its deployments (``POST /deployments/schedule`` for their ids only: the
server's scheduler core, idempotent per version and time, so two serve
processes or a server's own scheduler never duplicate a run), then reads
its deployments' due runs (Scheduled or Late, expected by now; ad-hoc runs
are Scheduled for now), claims each (proposes Pending with the
``state_version`` it read: only the ACCEPT winner runs it) and runs it in a
child process, ``python -m headwater.engine``, at most ``limit`` at a time.

Ctrl-C or SIGTERM stops it: no more claims, each child gets SIGTERM (its run
ends Crashed, with hooks, as any flow run on SIGTERM) and has
``HEADWATER_RUNNER_SHUTDOWN_GRACE_SECONDS`` to end; then it is killed (at
once on a second Ctrl-C). A
child that ends leaving its run unfinished (killed, out of memory) has the
run marked Crashed with the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from headwater._private.deployments.runner_deployment import RunnerDeployment
from headwater._private.target import Target, current_target
from headwater._private.version_lock import VERSION_LOCKED_EXIT_CODE

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

__all__ = ["Runner", "serve"]

_log = logging.getLogger("headwater.runner")

_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


@dataclass
class _Child:
    """A flow run running in a child process."""

    run_id: str
    name: str
    process: asyncio.subprocess.Process
    waiter: asyncio.Task[None] | None = None


@dataclass
class Runner:
    """The loop behind ``serve``: register, then schedule, claim and run until stopped.

    Attributes:
        deployments: What it serves.
        limit: Runs at most this many flow runs at once (None: no limit).
        poll_seconds: Seconds between two looks for due runs.
        grace_seconds: Seconds children get to end after SIGTERM when stopping.
        pause_on_shutdown: Pause the deployments when the process stops (their
            schedules create no runs while nothing serves them).
    """

    deployments: list[RunnerDeployment]
    limit: int | None = None
    poll_seconds: float = 10.0
    grace_seconds: float = 30.0
    pause_on_shutdown: bool = True
    target: Target = field(default_factory=current_target)
    versions: dict[str, RunnerDeployment] = field(default_factory=dict)
    children: dict[str, _Child] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, *, on_started: Any = None) -> None:
        """Serve until :attr:`stop` is set (Ctrl-C or SIGTERM when started by :func:`serve`)."""
        async with self.target.client() as client:
            await self._register(client)
            if on_started is not None:
                on_started(self)
            try:
                while not self.stop.is_set():
                    try:
                        await self._tick(client)
                    except Exception as exc:  # the API is down, say: keep serving
                        _log.warning("serve: could not look for runs (%s: %s); trying again "
                                     "in %s s", type(exc).__name__, exc, self.poll_seconds)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), self.poll_seconds)
            finally:
                await self._shut_down(client)

    async def _register(self, client: HeadwaterClient) -> None:
        for deployment in self.deployments:
            row, created = await deployment.register(client)
            version_id = str(row["id"])
            if bool(row.get("paused")) != deployment.paused:
                if deployment.paused:
                    await client.pause_deployment(version_id)
                else:
                    await client.resume_deployment(version_id)
            self.versions[version_id] = deployment
            _log.info("serve: %s deployment %r version %s", "registered" if created
                      else "serving unchanged", deployment.full_name, row.get("version"))

    async def _tick(self, client: HeadwaterClient) -> None:
        """Schedule, then claim and start due runs while there is room."""
        ids = list(self.versions)
        await client.schedule_deployments(ids)
        room = None if self.limit is None else self.limit - len(self.children)
        if room is not None and room <= 0:
            return
        now = dt.datetime.now(dt.timezone.utc)
        body = {"deployments": {"id": {"any_": ids}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}},
                              "expected_start_time": {"before_": now.isoformat()}},
                "sort": "EXPECTED_START_TIME_ASC", "limit": room or 200}
        for run in await client.request("POST", "flow_runs/filter", json=body):
            if self.stop.is_set() or (self.limit is not None
                                      and len(self.children) >= self.limit):
                return
            if run["id"] in self.children:
                continue
            result = await client.set_flow_run_state(
                run["id"], {"type": "PENDING", "name": "Pending"},
                expected_state_version=run["state_version"])
            if result.get("status") != "ACCEPT":
                continue  # another process claimed it, or it was cancelled
            await self._start(client, run)

    async def _start(self, client: HeadwaterClient, run: dict[str, Any]) -> None:
        env = {**os.environ, **self._target_env(), "HEADWATER__FLOW_RUN_ID": str(run["id"])}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "headwater.engine", env=env,
                # Its own session: Ctrl-C reaches serve only, which stops children in order.
                start_new_session=True)
        except OSError as exc:
            await _crash(client, run["id"], f"serve could not start the flow run's process: "
                         f"{exc}")
            return
        child = _Child(str(run["id"]), run.get("name", ""), process)
        child.waiter = asyncio.ensure_future(self._reap(client, child))
        self.children[child.run_id] = child
        _log.info("serve: started flow run %r (%s) in process %s", child.name, child.run_id,
                  process.pid)

    def request_stop(self) -> None:
        """Stop serving (first Ctrl-C/SIGTERM); a second request kills the children at once."""
        if not self.stop.is_set():
            self.stop.set()
            return
        for child in list(self.children.values()):
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()

    def _target_env(self) -> dict[str, str]:
        """The settings a child needs to reach the same database or API as this process."""
        t = self.target
        env = {"HEADWATER_HOME": str(t.home), "HEADWATER_API_ENABLE_RECORDING": "true"}
        if t.api_url:
            env["HEADWATER_API_URL"] = t.api_url
        if t.api_key:
            env["HEADWATER_API_KEY"] = t.api_key
        if t.database_url:
            env["HEADWATER_API_DATABASE_CONNECTION_URL"] = t.database_url
        return env

    async def _reap(self, client: HeadwaterClient, child: _Child) -> None:
        """Wait for a child to end; a run it left unfinished ends Crashed."""
        code = await child.process.wait()
        self.children.pop(child.run_id, None)
        try:
            run = await client.read_flow_run(child.run_id)
        except Exception as exc:  # reported, never fatal to serve
            _log.warning("serve: could not read flow run %s after its process ended: %s",
                         child.run_id, exc)
            return
        if run.get("state_type") in _FINAL:
            _log.info("serve: flow run %r ended %s", child.name, run.get("state_name"))
            return
        if code == VERSION_LOCKED_EXIT_CODE:
            _log.info("serve: flow run %r was started by another process (version lock)",
                      child.name)
            return
        why = ("serve stopped and its process was ended" if self.stop.is_set()
               else "its process ended")
        await _crash(client, child.run_id,
                     f"The flow run did not finish: {why} (exit code {code}) while it was "
                     f"{run.get('state_name')}.")

    async def _shut_down(self, client: HeadwaterClient) -> None:
        """Stop children (SIGTERM, then SIGKILL after the grace period); pause deployments."""
        children = list(self.children.values())
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        waiters = [c.waiter for c in children if c.waiter is not None]
        if waiters:
            _log.info("serve: stopping %d flow run(s); waiting up to %s s", len(waiters),
                      self.grace_seconds)
            _, late = await asyncio.wait(waiters, timeout=self.grace_seconds)
            for child in children:
                if child.waiter in late:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
            if late:
                await asyncio.wait(late, timeout=10)
        if self.pause_on_shutdown:
            for version_id in self.versions:
                with contextlib.suppress(Exception):
                    await client.pause_deployment(version_id)


async def _crash(client: HeadwaterClient, run_id: str, message: str) -> None:
    _log.warning("serve: flow run %s crashed: %s", run_id, message)
    with contextlib.suppress(Exception):
        await client.set_flow_run_state(run_id, {"type": "CRASHED", "name": "Crashed",
                                                 "message": message}, force=True)


def _starting_message(runner: Runner) -> str:
    names = "\n".join(f"  - {d.full_name}" for d in runner.deployments)
    first = runner.deployments[0].full_name
    return (f"Your deployments are being served and polling for scheduled runs "
            f"(every {runner.poll_seconds:g} s, at {runner.target.where()}):\n{names}\n"
            f"To trigger a run: headwater deployment run '{first}'\n"
            "Press Ctrl-C to stop.")


def serve(*deployments: RunnerDeployment, pause_on_shutdown: bool = True,
          print_starting_message: bool = True, limit: int | None = None,
          webserver: bool = False, **_ignored: Any) -> None:
    """Register ``deployments`` and run their scheduled and ad-hoc runs in this process.

    Blocks until Ctrl-C or SIGTERM (see the module's description).

    Args:
        deployments: From ``flow.to_deployment(...)``.
        pause_on_shutdown: Pause the deployments when stopping.
        print_starting_message: Say what is served, and how to trigger a run.
        limit: Run at most this many flow runs at once.
        webserver: Not supported (headwater's serve has no health endpoint).
    """
    from headwater._private.deployments.runner_deployment import DeploymentError
    from headwater._private.settings import get_current_settings

    if not deployments:
        raise DeploymentError("serve() needs at least one deployment: "
                              "serve(my_flow.to_deployment('name'), ...).")
    if webserver:
        raise DeploymentError("webserver=True is not supported: leave it out.")
    if limit is not None and limit < 1:
        raise DeploymentError(f"limit={limit!r}: give a positive number of runs, or None.")
    settings = get_current_settings()

    async def main() -> None:
        runner = Runner(list(deployments), limit=limit,
                        poll_seconds=settings.runner.poll_seconds,
                        grace_seconds=settings.runner.shutdown_grace_seconds,
                        pause_on_shutdown=pause_on_shutdown)
        loop = asyncio.get_running_loop()
        handled = []
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, runner.request_stop)
                handled.append(signum)

        def started(r: Runner) -> None:
            if print_starting_message:
                print(_starting_message(r), flush=True)

        try:
            await runner.run(on_started=started)
        finally:
            for signum in handled:
                loop.remove_signal_handler(signum)

    asyncio.run(main())
