"""Run contexts: which flow run and task run the calling code is in (read-only)."""

from headwater._private.context import FlowRunContext, TaskRunContext, get_run_context, tags

__all__ = ["FlowRunContext", "TaskRunContext", "get_run_context", "tags"]
