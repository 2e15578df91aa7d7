"""solvers/options.py: an option converts and range-checks its value, and unknown keys are refused by name."""

import math

import pytest

from solvers.options import Option, check_keys

COUNT = Option("count", int, "an integer >= 1", lambda v: v >= 1, default=7)
SCALE = Option("scale", float, "a finite number > 0", lambda v: v > 0)


def test_a_float_option_stores_a_float_and_an_int_option_an_int():
    value = SCALE.check(3, "owner")
    assert value == 3.0 and type(value) is float
    assert SCALE.check(0.25, "owner") == 0.25
    assert COUNT.check(4, "owner") == 4 and type(COUNT.check(4, "owner")) is int
    assert COUNT.check(None, "owner") == 7 and SCALE.check(None, "owner") is None


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_float_option_refuses_a_non_finite_number(value):
    with pytest.raises(ValueError) as error:
        SCALE.check(value, "method='imex'")
    assert str(error.value) == f"scale: method='imex' needs a finite number > 0, got {value!r}"


def test_a_value_outside_the_range_names_the_key_given():
    with pytest.raises(ValueError, match=r"^step_size: method='imex' needs a finite number > 0, got -0.5$"):
        SCALE.check(-0.5, "method='imex'", key="step_size")


@pytest.mark.parametrize("value, shown", [("3", "str '3'"), (True, "bool True"), ([1], "list [1]")])
def test_a_value_that_is_not_a_real_number_is_a_type_error_naming_its_type(value, shown):
    for option in (COUNT, SCALE):
        with pytest.raises(TypeError) as error:
            option.check(value, "owner")
        assert str(error.value) == f"{option.name}: owner needs {option.requirement}, got {shown}"


def test_an_int_option_refuses_a_fraction():
    with pytest.raises(TypeError) as error:
        COUNT.check(2.5, "backward='checkpoint'")
    assert str(error.value) == "count: backward='checkpoint' needs an integer >= 1, got 2.5"


def test_unknown_keys_are_named_with_the_known_ones_sorted():
    with pytest.raises(ValueError) as error:
        check_keys(["step_size", "stepsize"], ["step_size", "max_steps"], "method='imex'")
    assert str(error.value) == ("options: unknown option 'stepsize' for method='imex'; known options: max_steps, "
                                "step_size")
    check_keys(["max_steps"], ["step_size", "max_steps"], "method='imex'")


def test_an_owner_without_options_says_none():
    with pytest.raises(ValueError) as error:
        check_keys({"anchors": 3}, (), "Backprop", argument="adjoint_options")
    assert str(error.value) == "adjoint_options: unknown option 'anchors' for Backprop; known options: none"
