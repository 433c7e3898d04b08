"""Deployments: ``run_deployment``, ``RunnerDeployment`` and ``serve`` (Prefect 2's paths).

Example:
    >>> from headwater.deployments import run_deployment
    >>> def nightly_backfill() -> None:
    ...     run = run_deployment("etl/prod", parameters={"day": "2024-01-01"}, timeout=0)
    ...     print(run.name, run.state.name)
"""

from headwater._private.deployments.run import run_deployment, run_deployment_async
from headwater._private.deployments.runner_deployment import DeploymentError, RunnerDeployment
from headwater._private.deployments.serve import serve

__all__ = ["DeploymentError", "RunnerDeployment", "run_deployment", "run_deployment_async",
           "serve"]
