"""Typed input for paused flow runs: `RunInput` and helpers, as in Prefect 2's ``prefect.input``.

A flow pauses with ``pause_flow_run(wait_for_input=SomeRunInput)`` and gets
back a validated ``SomeRunInput`` when someone calls
``resume_flow_run(flow_run_id, run_input={...})``. A `RunInput` is a pydantic
model that forbids unknown fields; `RunInput.with_initial_data` makes a
subclass whose fields default to the given values.

Example:
    >>> from headwater import flow, pause_flow_run
    >>> from headwater.input import RunInput
    >>> class Approval(RunInput):
    ...     approved: bool
    ...     comment: str = ""
    >>> @flow
    ... def publish() -> None:
    ...     answer = pause_flow_run(wait_for_input=Approval.with_initial_data(approved=True))
    ...     if answer.approved:
    ...         ...

Sending input between running flows (``send_input``, ``receive_input``,
``RunInput.respond``/``send_to``/``receive``) and the flow-run-input store
(``create_flow_run_input``...) are not provided: see docs/migration.md.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar

import pydantic

from headwater._private.states import State

__all__ = ["Keyset", "RunInput", "RunInputMetadata", "keyset_from_base_key",
           "keyset_from_paused_state"]

R = TypeVar("R", bound="RunInput")

Keyset = dict[Literal["description", "response", "schema"], str]
"""The keys under which Prefect 2 stores a pause's input description, response and schema."""


def keyset_from_base_key(base_key: str) -> Keyset:
    """Return the keyset of ``base_key``: ``<base>-description``, ``-response``, ``-schema``."""
    return {
        "description": f"{base_key}-description",
        "response": f"{base_key}-response",
        "schema": f"{base_key}-schema",
    }


def keyset_from_paused_state(state: State[Any]) -> Keyset:
    """Return the keyset of a ``Paused``/``Suspended`` state, from its name and pause key.

    Raises:
        RuntimeError: The state is not paused.
    """
    if not state.is_paused():
        raise RuntimeError(f"{state.type.value!r} is unsupported: keyset_from_paused_state() "
                           "takes a Paused or Suspended state.")
    name = (state.name or "").lower()
    return keyset_from_base_key(f"{name}-{state.state_details.pause_key}")


class RunInputMetadata(pydantic.BaseModel):
    """Who sent a piece of run input, to which flow run, under which key."""

    key: str
    sender: str | None
    receiver: uuid.UUID


class RunInput(pydantic.BaseModel):
    """Base of the input models a paused flow run waits for (unknown fields are refused)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    _description: str | None = pydantic.PrivateAttr(default=None)

    @classmethod
    def keyset_from_type(cls) -> Keyset:
        """Return the keyset named after this class (its name, lower-cased)."""
        return keyset_from_base_key(cls.__name__.lower())

    @classmethod
    def with_initial_data(cls: type[R], description: str | None = None,
                          **kwargs: Any) -> type[R]:
        """Return a subclass whose fields default to ``kwargs`` (new fields are added).

        Args:
            description: A description of the input asked for (Prefect 2's UI
                shows it; headwater keeps it as ``_description``).
            **kwargs: Field values to use as defaults.
        """
        fields: dict[str, Any] = {key: (type(value), value) for key, value in kwargs.items()}
        model: type[R] = pydantic.create_model(cls.__name__, __base__=cls, **fields)
        if description is not None:
            model._description = description
        return model
