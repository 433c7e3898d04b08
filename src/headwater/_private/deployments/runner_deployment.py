"""``RunnerDeployment``: a deployment described in Python, before it is registered.

``Flow.to_deployment(...)`` builds one; ``serve`` and ``deploy`` register it
(``apply``). Its version hash is the content hash of the flow's source file,
parameters, schedules and settings (or of ``version=`` when given), computed
here so that registering unchanged code is a no-op the API recognises.
Parameters are checked against the flow's signature and types when the
deployment is built, and a deployment whose schedules would create runs
without a required parameter is refused, naming it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from headwater.exceptions import HeadwaterException

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition
    from headwater.client import HeadwaterClient

__all__ = ["DeploymentError", "RunnerDeployment", "build_schedules", "deployment_from_flow"]


class DeploymentError(HeadwaterException, ValueError):
    """A deployment cannot be built or registered as given (the message says why and the fix)."""


class RunnerDeployment(BaseModel):
    """A deployment of a flow, described before it is registered (Prefect 2's field names).

    Attributes:
        name: The deployment's name (runs are named ``flow/name``).
        flow_name: The flow's name.
        entrypoint: ``path/file.py:fn`` relative to the code location's folder.
        code_location: ``{"kind": "local", "path": ...}`` or ``{"kind": "git", ...}``.
        schedules: Each ``{"schedule": <Prefect 2 JSON>, "active", "parameters", "slug"}``.
        paused: Registered paused (its schedules create no runs).
        parameters: Default parameters of its runs.
        parameter_openapi_schema: The flow's parameter schema.
        version: The version's label; the hash's first 12 characters when not given.
        version_hash: Content hash of the flow's source, parameters, schedules
            and settings (of ``version`` when that was given).
        heartbeat: Its runs send heartbeats (None: unchanged; on for a new one).
        lazarus: Its crashed runs are rescheduled (None: unchanged; on for a new one).
        version_lock: Its runs start once and only once (None: unchanged; off for a
            new one). The switches are not part of the version hash.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str
    flow_name: str
    entrypoint: str
    code_location: dict[str, Any] | None = None
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    paused: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_openapi_schema: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    version: str | None = None
    version_hash: str = ""
    tags: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    project: str = "default"
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    enforce_parameter_schema: bool = True
    max_lateness_seconds: float | None = None
    late_runs: Literal["run", "skip"] = "run"
    catchup: bool = False
    heartbeat: bool | None = None
    lazarus: bool | None = None
    version_lock: bool | None = None
    _flow: Any = PrivateAttr(default=None)
    _source: str = PrivateAttr(default="")

    @property
    def full_name(self) -> str:
        """``flow/deployment``, as ``run_deployment`` and the CLI name it."""
        return f"{self.flow_name}/{self.name}"

    @property
    def is_schedule_active(self) -> bool:
        """Prefect 2's name for "not paused"."""
        return not self.paused

    def fields_for_api(self, flow_id: str) -> dict[str, Any]:
        """The ``POST /deployments/`` body of this version."""
        body = self.model_dump(exclude={"flow_name"})
        body["flow_id"] = flow_id
        return body

    async def register(self, client: HeadwaterClient) -> tuple[dict[str, Any], bool]:
        """Register this version (an upsert); return the stored version and whether it is new."""
        flow = await client.request("POST", "flows/", json={"name": self.flow_name})
        row, created = await client.create_deployment(**self.fields_for_api(flow["id"]))
        return dict(row), bool(created)

    def apply(self) -> uuid.UUID:
        """Register this version through the target's API; return its id (Prefect 2's apply)."""
        row, _ = register_sync(self)
        return uuid.UUID(str(row["id"]))


def register_sync(deployment: RunnerDeployment) -> tuple[dict[str, Any], bool]:
    """:meth:`RunnerDeployment.register` with a client of the target, from sync code."""
    from headwater._private import background
    from headwater._private.target import current_target

    async def work() -> tuple[dict[str, Any], bool]:
        async with current_target().client() as client:
            return await deployment.register(client)

    result: tuple[dict[str, Any], bool] = background.run(work)
    return result


#: Marks (until the version hash is computed) an interval anchored at "now" by default.
_DEFAULT_ANCHOR = "__headwater_default_anchor__"


def _schedule_json(schedule: Any) -> dict[str, Any]:
    """A schedule object, or Prefect 2's JSON of one, as its checked, canonical JSON.

    Raises:
        DeploymentError: Not a valid schedule (the message names the field and the fix).
    """
    from headwater._private.schedules import schedule_from_json, schedule_to_json

    given = dict(schedule) if isinstance(schedule, Mapping) else None
    try:
        if given is not None:
            schedule = schedule_from_json(given)
        result = schedule_to_json(schedule)
        if given is not None and "interval" in given and not given.get("anchor_date"):
            # Anchored now (Prefect 2's default), which must not make each
            # registration a new version: the hash leaves it out.
            result[_DEFAULT_ANCHOR] = True
        return result
    except (TypeError, ValueError) as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):  # pydantic's: the field and its message, without the noise
            first = errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            text = str(first.get("msg", exc)).removeprefix("Value error, ")
            message = f"{field}: {text}" if field else text
        else:
            message = str(exc)
        raise DeploymentError(f"Invalid schedule {schedule!r}: {message}") from None


def build_schedules(*, cron: str | Iterable[str] | None = None,
                    interval: float | dt.timedelta | Iterable[float | dt.timedelta] | None = None,
                    rrule: str | Iterable[str] | None = None, timezone: str | None = None,
                    anchor_date: dt.datetime | None = None,
                    schedules: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    """The schedules of ``cron=``/``interval=``/``rrule=``/``schedules=``, as stored JSON.

    Each may be one value or several (Prefect 2 accepts lists). ``schedules``
    holds schedule objects, their JSON, or ``DeploymentScheduleCreate``-like
    objects or dicts (``schedule``, ``active``, ``parameters``, ``slug``).
    """
    out: list[dict[str, Any]] = []

    def many(value: Any) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, (str, int, float, dt.timedelta)):
            return [value]
        return list(value)

    out.extend({"schedule": _schedule_json({"cron": text, "timezone": timezone,
                                            "day_or": True})}
               for text in many(cron))
    for every in many(interval):
        seconds = every.total_seconds() if isinstance(every, dt.timedelta) else float(every)
        if seconds <= 0:
            raise DeploymentError(f"interval={every!r}: an interval must be more than 0 "
                                  "seconds.")
        schedule: dict[str, Any] = {"interval": seconds, "timezone": timezone}
        if anchor_date is not None:
            schedule["anchor_date"] = anchor_date.isoformat()
        out.append({"schedule": _schedule_json(schedule)})
    out.extend({"schedule": _schedule_json({"rrule": text, "timezone": timezone or "UTC"})}
               for text in many(rrule))
    for item in schedules or ():
        inner = item.get("schedule") if isinstance(item, Mapping) else getattr(
            item, "schedule", None)
        if inner is None:
            out.append({"schedule": _schedule_json(item)})
            continue
        fields = dict(item) if isinstance(item, Mapping) else {
            key: getattr(item, key, None) for key in ("active", "parameters", "slug")}
        active = fields.get("active")
        out.append({"schedule": _schedule_json(inner),
                    "active": True if active is None else bool(active),
                    "parameters": dict(fields.get("parameters") or {}),
                    "slug": fields.get("slug")})
    for entry in out:
        entry.setdefault("active", True)
        entry.setdefault("parameters", {})
        entry.setdefault("slug", None)
    return out


def _where(flow: FlowDefinition) -> tuple[Path, str]:
    """The flow's source file and the module attribute that holds it."""
    try:
        source = inspect.getsourcefile(flow.fn)
    except TypeError:
        source = None
    if source is None:
        raise DeploymentError(
            f"Flow {flow.name!r} has no source file (defined in an interactive session?). "
            "Define it in a .py file to deploy it.")
    module = sys.modules.get(flow.fn.__module__)
    attribute = next((k for k, v in vars(module).items() if v is flow), None) \
        if module is not None else None
    if attribute is None:
        attribute = flow.fn.__name__
    if "<locals>" in flow.fn.__qualname__:
        raise DeploymentError(
            f"Flow {flow.name!r} is defined inside {flow.fn.__qualname__.split('.<locals>')[0]!r}"
            ", which a deployment cannot import. Move it to the top level of its file.")
    return Path(source).resolve(), attribute


def default_location(path: Path) -> tuple[dict[str, Any], str]:
    """The code location and entrypoint folder for a flow file: the current folder if
    the file is under it, else the file's folder."""
    cwd = Path.cwd().resolve()
    root = cwd if path.is_relative_to(cwd) else path.parent
    return {"kind": "local", "path": str(root)}, path.relative_to(root).as_posix()


def check_parameters(flow: FlowDefinition, parameters: Mapping[str, Any],
                     schedules: list[dict[str, Any]]) -> dict[str, Any]:
    """Check deployment parameters against the flow; return them JSON-ready.

    Raises:
        DeploymentError: A parameter is unknown or of the wrong type, or a
            schedule would create runs without a required parameter.
    """
    from headwater._private.parameters import validate_parameters
    from headwater.exceptions import ParameterTypeError

    signature = flow.signature
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD
                    for p in signature.parameters.values())
    every = [dict(parameters)] + [dict(s.get("parameters") or {}) for s in schedules]
    for given in every:
        unknown = sorted(k for k in given if k not in signature.parameters)
        if unknown and not takes_any:
            raise DeploymentError(
                f"Flow {flow.name!r} has no parameter {', '.join(map(repr, unknown))}; its "
                f"parameters are {', '.join(signature.parameters) or 'none'}. Remove it or "
                "fix its name.")
        try:
            validate_parameters(flow, given)
        except ParameterTypeError as exc:
            raise DeploymentError(str(exc)) from None
    required = [name for name, p in signature.parameters.items()
                if p.default is inspect.Parameter.empty
                and p.kind not in (inspect.Parameter.VAR_POSITIONAL,
                                   inspect.Parameter.VAR_KEYWORD)]
    for schedule in schedules:
        supplied = {**parameters, **(schedule.get("parameters") or {})}
        missing = [name for name in required if name not in supplied]
        if missing:
            raise DeploymentError(
                f"Flow {flow.name!r} requires {', '.join(map(repr, missing))}, which neither "
                f"the deployment's parameters nor its schedule {schedule['schedule']} supply, "
                "so its scheduled runs could not start. Give defaults with parameters="
                "{...} (--param name=value), or per schedule.")
    from headwater._private.recording.payload import json_safe

    result: dict[str, Any] = json_safe(dict(parameters))
    return result


def content_hash(source: str, body: Mapping[str, Any]) -> str:
    """The version hash: sha256 of the flow file's source and the version's fields."""
    digest = hashlib.sha256(source.encode())
    digest.update(json.dumps(body, sort_keys=True, default=str).encode())
    return digest.hexdigest()


#: Fields that make a version (``paused`` is a switch of the deployment, not a version).
_HASHED = ("name", "flow_name", "entrypoint", "code_location", "schedules", "parameters",
           "description", "tags", "labels", "project", "work_pool_name", "work_queue_name",
           "enforce_parameter_schema", "max_lateness_seconds", "late_runs", "catchup")


def deployment_from_flow(flow: FlowDefinition, name: str, *, version: str | None = None,
                         parameters: Mapping[str, Any] | None = None,
                         schedules: list[dict[str, Any]] | None = None,
                         entrypoint: str | None = None,
                         code_location: Mapping[str, Any] | None = None,
                         **settings: Any) -> RunnerDeployment:
    """Build the :class:`RunnerDeployment` of ``flow`` (``Flow.to_deployment``'s core)."""
    if not name or "/" in name:
        raise DeploymentError(f"Deployment name {name!r}: give a non-empty name without '/'.")
    path, attribute = _where(flow)
    location, relative = default_location(path)
    if code_location is not None:
        location = dict(code_location)
    if entrypoint is None:
        entrypoint = f"{relative}:{attribute}"
    schedules = schedules or []
    checked = check_parameters(flow, parameters or {}, schedules)
    from headwater._private.parameters import parameter_schema

    deployment = RunnerDeployment(
        name=name, flow_name=flow.name, entrypoint=entrypoint, code_location=location,
        schedules=schedules, parameters=checked,
        parameter_openapi_schema=dict(parameter_schema(flow)), version=version,
        description=settings.pop("description", None) or flow.options.description,
        **{k: v for k, v in settings.items() if v is not None})
    source = path.read_text(encoding="utf-8", errors="replace")
    body = deployment.model_dump(include=set(_HASHED))
    for entry, hashed in zip(deployment.schedules, body["schedules"], strict=True):
        if entry["schedule"].pop(_DEFAULT_ANCHOR, False):
            hashed["schedule"].pop(_DEFAULT_ANCHOR, None)
            hashed["schedule"].pop("anchor_date", None)
    if version is not None:
        deployment.version_hash = content_hash("", {"version": version, "name": name,
                                                    "flow_name": flow.name})
    else:
        deployment.version_hash = content_hash(source, body)
        deployment.version = deployment.version_hash[:12]
    deployment._flow = flow
    deployment._source = source
    return deployment
