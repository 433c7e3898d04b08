"""Request objects at Prefect 2's ``prefect.client.schemas.actions`` path.

Only those of the features headwater has: `DeploymentScheduleCreate`.
"""

from headwater.schedules import DeploymentScheduleCreate

__all__ = ["DeploymentScheduleCreate"]
