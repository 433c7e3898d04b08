"""Flow parameters: binding, validation and coercion, JSON schema."""

from __future__ import annotations

import pydantic
import pytest

from headwater import flow, runtime
from headwater.exceptions import ParameterBindError, ParameterTypeError


class Point(pydantic.BaseModel):
    x: int
    y: int


@flow
def typed(n: int, names: list[str], point: Point | None = None) -> tuple:
    return n, names, point


def test_values_are_coerced() -> None:
    n, names, point = typed("3", ("a", "b"), {"x": "1", "y": 2})
    assert n == 3 and isinstance(n, int)
    assert names == ["a", "b"]
    assert point == Point(x=1, y=2)


def test_recorded_parameters_are_validated_values() -> None:
    @flow
    def f(n: int) -> dict:
        return runtime.flow_run.parameters

    assert f("7") == {"n": 7}


def test_bad_value_fails_run_with_clear_error() -> None:
    state = typed("abc", [], return_state=True)
    assert state.is_failed()
    assert "Validation of flow parameters failed" in state.message
    with pytest.raises(ParameterTypeError) as info:
        state.result()
    message = str(info.value)
    assert "'typed'" in message
    assert "parameter 'n'" in message
    assert "'abc'" in message
    assert "int" in message


def test_bad_value_raises_on_call() -> None:
    with pytest.raises(ParameterTypeError, match="parameter 'n'"):
        typed(None, [])


def test_bad_value_does_not_call_the_function() -> None:
    called = []

    @flow
    def f(n: int) -> None:
        called.append(n)

    f(return_state=True, n="x")
    assert called == []


def test_every_bad_parameter_is_named() -> None:
    @flow
    def f(a: int, b: float) -> None:
        pass

    with pytest.raises(ParameterTypeError) as info:
        f("x", "y")
    assert "parameter 'a'" in str(info.value) and "parameter 'b'" in str(info.value)


def test_validate_parameters_false_passes_raw_values() -> None:
    @flow(validate_parameters=False)
    def f(n: int) -> object:
        return n

    assert f("3") == "3"


def test_defaults_are_not_revalidated() -> None:
    sentinel = object()

    @flow
    def f(n: int = sentinel) -> object:  # type: ignore[assignment]
        return n

    assert f() is sentinel


def test_var_positional_flow_receives_extra_arguments() -> None:
    @flow
    def f(first, *rest) -> tuple:
        return first, rest

    assert f(1, 2, 3) == (1, (2, 3))


def test_untyped_parameters_are_passed_through() -> None:
    @flow
    def f(a, b=2, *args, **kwargs) -> tuple:
        return a, b, args, kwargs

    assert f(1, 3, 4, 5, c=6) == (1, 3, (4, 5), {"c": 6})


def test_var_args_are_validated() -> None:
    @flow
    def f(*values: int) -> tuple:
        return values

    assert f("1", 2) == (1, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "problem"),
    [((), {}, "missing a required argument: 'n'"),
     ((1, 2, 3, 4), {}, "too many positional arguments"),
     ((1, []), {"zzz": 1}, "unexpected keyword argument 'zzz'")],
)
def test_bind_errors_are_immediate(args, kwargs, problem) -> None:
    with pytest.raises(ParameterBindError) as info:
        typed(*args, **kwargs)
    message = str(info.value)
    assert problem in message
    assert "'typed'" in message
    assert "typed(n:" in message  # the signature


def test_bind_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        typed()


def test_parameter_schema() -> None:
    @flow
    def documented(count: int, label: str = "x", point: Point | None = None) -> None:
        """Do something.

        Args:
            count: How many times.
            label: What to call it.
        """

    schema = documented.parameters
    props = schema["properties"]
    assert list(props) == ["count", "label", "point"]
    assert props["count"]["type"] == "integer"
    assert props["count"]["title"] == "count"
    assert props["count"]["description"] == "How many times."
    assert props["count"]["position"] == 0
    assert props["label"]["default"] == "x"
    assert props["label"]["description"] == "What to call it."
    assert "description" not in props["point"]
    assert schema["required"] == ["count"]
    assert "Point" in schema["definitions"]


def test_parameter_schema_without_docstring_or_hints() -> None:
    @flow
    def plain(a, b=1) -> None:
        pass

    schema = plain.parameters
    assert set(schema["properties"]) == {"a", "b"}
    assert schema["required"] == ["a"]


def test_parameter_schema_numpy_docstring() -> None:
    @flow
    def numpy_style(count: int) -> None:
        """Do something.

        Parameters
        ----------
        count : int
            How many times.
        """

    assert numpy_style.parameters["properties"]["count"]["description"] == "How many times."


def test_parameter_schema_has_prefect_2_s_attributes() -> None:
    @flow
    def f(x: int, y: str = "a") -> None:
        return None

    schema = f.parameters
    assert sorted(schema.properties) == ["x", "y"] and schema.required == ["x"]
    assert schema.properties is schema["properties"]  # still the dict it was
    assert (schema.title, schema.type, schema.definitions) == ("Parameters", "object", {})
