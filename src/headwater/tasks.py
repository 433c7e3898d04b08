"""Tasks: ``@task``, the `Task` object, and retry helpers."""

from headwater._private.caching import task_input_hash
from headwater._private.engine.retries import exponential_backoff
from headwater._private.tasks import Task, task

__all__ = ["Task", "exponential_backoff", "task", "task_input_hash"]
