"""Facts about the current run, as module attributes.

``from headwater import runtime`` then ``runtime.flow_run.id``,
``runtime.task_run.name``... Outside a run, ids and names are None, tags an
empty list and parameters an empty dict.
"""

from headwater.runtime import flow_run, task_run

__all__ = ["flow_run", "task_run"]
