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

The flow run input store (``create_flow_run_input`` and ``..._from_model``,
``read_flow_run_input``,
``filter_flow_run_input``, ``delete_flow_run_input``) and ``RunInput.save`` /
``RunInput.load`` work against the API, as in Prefect 2: a suspended run
saves the schema of the input it waits for, and a resume stores the input.
Sending input between running flows (``send_input``, ``receive_input``,
``RunInput.respond``/``send_to``/``receive``) is not provided: see
docs/migration.md.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar

import pydantic

from headwater._private.run_input_store import (
    create_flow_run_input,
    create_flow_run_input_from_model,
    delete_flow_run_input,
    ensure_flow_run_id,
    filter_flow_run_input,
    read_flow_run_input,
)
from headwater._private.states import State

__all__ = ["Keyset", "RunInput", "RunInputMetadata", "create_flow_run_input",
           "create_flow_run_input_from_model",
           "delete_flow_run_input", "filter_flow_run_input", "keyset_from_base_key",
           "keyset_from_paused_state", "read_flow_run_input"]

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
    _metadata: RunInputMetadata | None = pydantic.PrivateAttr(default=None)

    @property
    def metadata(self) -> RunInputMetadata | None:
        """Where this input was read from (set by `load`)."""
        return self._metadata

    @classmethod
    def save(cls, keyset: Keyset, flow_run_id: uuid.UUID | str | None = None) -> None:
        """Store this class's JSON schema (and description) under ``keyset`` for the run.

        Args:
            keyset: Where (``keyset_from_paused_state`` of the pause).
            flow_run_id: The flow run; the current one when None.
        """
        create_flow_run_input(keyset["schema"], cls.model_json_schema(), flow_run_id)
        found = getattr(cls, "_description", None)
        description = found if isinstance(found, str) else None
        if description:
            create_flow_run_input(keyset["description"], description, flow_run_id)

    @classmethod
    def load(cls: type[R], keyset: Keyset, flow_run_id: uuid.UUID | str | None = None) -> R:
        """Read the input the run was resumed with (``keyset["response"]``) as this class.

        Args:
            keyset: Where (``keyset_from_paused_state`` of the pause).
            flow_run_id: The flow run; the current one when None.

        Raises:
            pydantic.ValidationError: The stored input does not fit this class.
        """
        run_id = ensure_flow_run_id(flow_run_id)
        value = read_flow_run_input(keyset["response"], run_id)
        instance = cls(**value) if value else cls()
        instance._metadata = RunInputMetadata(key=keyset["response"], sender=None,
                                              receiver=run_id)
        return instance

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
