"""solvers/registry.py: a name → entry dict that refuses a silent overwrite, and the method names it dispatches on."""

import pytest

from solvers.methods import Imex, ImexImplicit, Verlet
from solvers.registry import METHODS, Registry, get_method


def test_entries_given_at_construction_and_by_keyword_are_registered():
    registry = Registry("widget", {"a": 1})
    registry.update({"b": 2}, c=3)
    registry |= {"d": 4}
    assert dict(registry) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert registry.what == "widget"


def test_taking_a_name_twice_is_a_key_error_naming_the_kind_and_the_entry():
    registry = Registry("widget", {"a": 1})
    message = "\"widget 'a' is registered already (1); pass replace=True to replace it, or pick another name\""
    for add in (lambda: registry.__setitem__("a", 2), lambda: registry.update(a=2), lambda: registry.__ior__({"a": 2})):
        with pytest.raises(KeyError) as error:
            add()
        assert str(error.value) == message
    assert registry["a"] == 1
    assert registry.register("a", 5, replace=True) == 5
    assert registry["a"] == 5


@pytest.mark.parametrize("name", ["", 3, None])
def test_a_name_that_is_not_a_non_empty_string_is_a_type_error(name):
    registry = Registry("widget")
    with pytest.raises(TypeError) as error:
        registry.register(name, 1)
    assert str(error.value) == f"name: a widget is registered under a non-empty string, got {name!r}"
    assert dict(registry) == {}


def test_setdefault_keeps_an_existing_entry_and_registers_a_new_one():
    registry = Registry("widget", {"a": 1})
    assert registry.setdefault("a", 2) == 1
    assert registry.setdefault("b", 3) == 3
    assert dict(registry) == {"a": 1, "b": 3}


def test_method_names_give_fresh_instances():
    assert dict(METHODS) == {"imex": Imex, "imex_implicit": ImexImplicit, "verlet": Verlet}
    first, second = get_method("verlet"), get_method("verlet")
    assert type(first) is Verlet and first is not second
    with pytest.raises(ValueError) as error:
        get_method("rk4")
    assert str(error.value) == "unknown partitioned method 'rk4'; known: ['imex', 'imex_implicit', 'verlet']"
