"""Deployments through the API: versions, a schedule, an ad-hoc run, one scheduler loop.

Run it as it is: it uses a temporary HEADWATER_HOME (the embedded API on a
SQLite file, no server). With HEADWATER_API_URL set it talks to that server.
``flow.deploy`` and ``flow.serve`` do the registration for you; this shows
what they send.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HEADWATER_HOME", tempfile.mkdtemp())

from headwater.client import get_client

SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def main() -> None:
    with get_client(sync_client=True) as client:
        flow = client.request("POST", "flows/", json={"name": "etl"})
        fields = {
            "name": "nightly", "flow_id": flow["id"], "project": "sales",
            "entrypoint": "flows/etl.py:etl",
            "code_location": {"kind": "local", "path": "/srv/etl"},
            "parameters": {"x": 1}, "parameter_openapi_schema": SCHEMA,
            "schedules": [{"schedule": {"cron": "0 2 * * *", "timezone": "Europe/Paris"}}],
        }
        v1, created = client.create_deployment(**fields, version="1")
        same, created_again = client.create_deployment(**fields, version="1")
        print("version 1 created:", created, "- again:", created_again,
              "- same id:", same["id"] == v1["id"])

        v2, _ = client.create_deployment(**{**fields, "parameters": {"x": 2}}, version="2")
        versions = client.read_deployment_versions("etl/nightly")
        print("versions:", [(v["version"], "archived" if v["archived"] else "current")
                            for v in versions])

        run = client.create_flow_run_from_deployment(v2["id"], parameters={"x": 5})
        print("ad-hoc run:", run["name"], run["parameters"], run["state"]["name"])

        report = client.schedule_deployments([v2["id"]])
        print("scheduler loop created", report["runs_created"], "runs")
        runs = client.read_deployment_flow_runs("etl/nightly", limit=10)
        print("runs of etl/nightly:", len(runs))


if __name__ == "__main__":
    main()
