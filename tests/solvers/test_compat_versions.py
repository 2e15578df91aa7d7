"""solvers/compat.py: a method name alone is fixed-step only when torchdiffeq's solver class is a fixed-grid one."""

import pytest

import solvers  # noqa: F401  (registers the methods)
from solvers.compat import is_fixed_step


@pytest.mark.parametrize("method, fixed", [
    ("dopri5", False),
    ("adaptive_heun", False),
    ("no_such_method", False),
    ("rk4", True),
    ("midpoint", True),
    ("verlet", True),
])
def test_a_method_name_alone_is_read_as_a_torchdiffeq_method(method, fixed):
    assert is_fixed_step(method) is fixed
