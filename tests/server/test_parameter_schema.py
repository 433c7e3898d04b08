"""Parameters checked against the schema headwater generates for a flow's signature."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pydantic
import pytest

from headwater import flow
from headwater._private.parameters import parameter_schema
from headwater.server.services.parameter_schema import ParameterError, check_parameters


class Window(pydantic.BaseModel):
    start: int
    end: int | None = None


@flow
def etl(x: int, names: list[str] | None = None, mode: Literal["full", "delta"] = "full",
        window: Window | None = None, day: dt.date = dt.date(2024, 1, 1), ratio: float = 1.0,
        anything: Any = None) -> None:
    """A flow with parameters of many kinds."""


SCHEMA = dict(parameter_schema(etl))


@pytest.mark.parametrize("parameters", [
    {"x": 1},
    {"x": 1, "names": ["a", "b"], "mode": "delta", "window": {"start": 1, "end": None}},
    {"x": 2.0, "ratio": 3, "day": "2024-05-01", "anything": {"deep": [1, "x"]}},
    {"x": 1, "names": None, "window": None},
])
def test_values_that_fit_pass(parameters: dict[str, Any]) -> None:
    check_parameters(SCHEMA, parameters, complete=True)


@pytest.mark.parametrize(("parameters", "named"), [
    ({}, "missing required parameter(s) 'x'"),
    ({"x": "one"}, "parameter 'x': 'one' is not of type integer"),
    ({"x": True}, "parameter 'x'"),
    ({"x": 1.5}, "parameter 'x'"),
    ({"x": 1, "names": ["a", 2]}, "parameter 'names'"),
    ({"x": 1, "mode": "sometimes"}, "parameter 'mode'"),
    ({"x": 1, "window": {"end": 3}}, "parameter 'window'"),
    ({"x": 1, "window": {"start": "soon"}}, "parameter 'window'"),
    ({"x": 1, "ratio": "high"}, "parameter 'ratio'"),
])
def test_values_that_do_not_fit_are_named(parameters: dict[str, Any], named: str) -> None:
    with pytest.raises(ParameterError, match=named.replace("(", r"\(").replace(")", r"\)")):
        check_parameters(SCHEMA, parameters, complete=True)


def test_defaults_alone_need_not_be_complete() -> None:
    check_parameters(SCHEMA, {"mode": "delta"}, complete=False)
    check_parameters(None, {"whatever": 1}, complete=True)
