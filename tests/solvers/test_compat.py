"""The torchdiffeq version check and the fixed-step test of solvers/compat.py, with the supported range's edges."""

import pytest

from solvers.compat import SUPPORTED, _version, check_version, is_fixed_step


@pytest.mark.parametrize("text, parts", [
    ("0.2.5", (0, 2, 5)),
    ("0.2.10", (0, 2, 10)),
    ("0.2.5.1", (0, 2, 5)),
    ("0.2.x", (0, 2, 0)),
    ("1..2", (1, 0, 2)),
    ("0.3.0rc1", (0, 3, 0)),
    ("0.2.dev5", (0, 2, 0)),
    ("0.3", (0, 3, 0)),
    ("1", (1, 0, 0)),
])
def test_version_reads_the_leading_digits_of_the_first_three_parts(text, parts):
    assert _version(text) == parts


@pytest.mark.parametrize("version", ["0.2.5", "0.2.10", "0.2.99"])
def test_versions_inside_the_range_pass(version):
    assert SUPPORTED == (">=0.2.5", "<0.3")
    check_version(version)


@pytest.mark.parametrize("version", ["0.2.4", "0.3.0", "0.3", "1.0.0"])
def test_versions_outside_the_range_say_what_to_install(version):
    message = (f"torchdiffeq {version} is not supported: graphcon-ode registers its methods through torchdiffeq "
               f"internals read from versions >=0.2.5,<0.3; install one with pip install 'torchdiffeq>=0.2.5,<0.3'")
    with pytest.raises(ImportError) as error:
        check_version(version)
    assert str(error.value) == message


@pytest.mark.parametrize("method, partitioned, fixed", [
    ("rk4", False, True),
    ("euler", False, True),
    ("dopri5", False, False),
    ("imex", False, True),
    ("no_such_method", False, False),
    ("no_such_method", True, True),
    ("dopri5", True, True),
])
def test_fixed_step_is_a_fixed_grid_solver_class_or_a_partitioned_method(method, partitioned, fixed):
    assert is_fixed_step(method, partitioned) is fixed
