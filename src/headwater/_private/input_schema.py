"""The input a suspended run waits for: its keyset and the JSON schema saved for it.

Prefect 2 saves the schema of the ``wait_for_input`` model under the pause's
``schema`` key, so that a resume's input can be checked by the API (and a
UI can draw a form), and reads the input back from the ``response`` key. A
type that is not a pydantic model (``int``, ``str``...) is wrapped in a model
with one field, ``value``, as Prefect 2 does.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["keyset_for", "save_schema", "schema_of"]


def keyset_for(state_name: str, pause_key: str) -> dict[str, str]:
    """The keyset of a pause: ``<state name>-<pause key>-schema`` and the like."""
    base = f"{state_name.lower()}-{pause_key}"  # as headwater.input.keyset_from_base_key
    return {part: f"{base}-{part}" for part in ("description", "response", "schema")}


def schema_of(model: Any) -> tuple[dict[str, Any], str | None]:
    """The JSON schema of ``model`` (a pydantic model, or a type wrapped in ``value``),
    and its description (``RunInput.with_initial_data(description=...)``)."""
    import pydantic

    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        found = getattr(model, "_description", None)
        return model.model_json_schema(), found if isinstance(found, str) else None
    name = f"RunInput{getattr(model, '__name__', 'Value').capitalize()}"
    wrapper = pydantic.create_model(name, value=(model, ...))
    return wrapper.model_json_schema(), None


def save_schema(model: Any, keyset: dict[str, str], flow_run_id: uuid.UUID) -> None:
    """Store the schema (and description) of ``model`` under ``keyset`` for the run."""
    from headwater._private.run_input_store import create_flow_run_input

    schema, description = schema_of(model)
    create_flow_run_input(keyset["schema"], schema, flow_run_id)
    if description:
        create_flow_run_input(keyset["description"], description, flow_run_id)
