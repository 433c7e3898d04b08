"""Flows: ``@flow`` and the `Flow` object."""

from headwater._private.flows import Flow, flow, serve

__all__ = ["Flow", "flow", "serve"]
