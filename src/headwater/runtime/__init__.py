"""Facts about the current run, as module attributes.

``from headwater import runtime`` then ``runtime.flow_run.id``,
``runtime.task_run.name``... Outside a run, ids and names are None, tags an
empty list and parameters an empty dict. ``runtime.deployment`` is always
outside a deployment (headwater has none yet).
"""

from headwater.runtime import deployment, flow_run, task_run

__all__ = ["deployment", "flow_run", "task_run"]
