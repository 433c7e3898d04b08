"""``RunnerDeployment`` at Prefect 2's ``prefect.deployments.runner`` path."""

from headwater._private.deployments.runner_deployment import RunnerDeployment

__all__ = ["RunnerDeployment"]
