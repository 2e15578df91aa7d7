"""solvers/problem.py: how many steps a fixed-grid solve takes, counted without the zero-length last step."""

import pytest
import torch

from solvers.problem import Problem, _nonzero_steps, fixed_steps


@pytest.mark.parametrize("t, dt, steps", [
    ([0.0, 2.1], 0.15, 14),
    ([2.1, 0.0], 0.15, 14),
    ([-2.1, 0.0], 0.15, 14),
    ([0.3, 2.4], 0.15, 14),
    ([2.4, 0.3], 0.15, 15),
    ([0.0, 1.0], 0.1, 10),
    ([1.0, 3.0, 4.0], 0.5, 6),
    ([4.0, 3.0, 1.0], 0.5, 6),
    ([0.5], 0.1, 0),
])
def test_nonzero_steps_of_the_rounded_grid(t, dt, steps):
    assert _nonzero_steps(torch.tensor(t, dtype=torch.float64), dt) == steps


@pytest.mark.parametrize("method, options, steps", [
    ("dopri5", {}, None),
    ("rk4", {}, 2),
    ("rk4", {"step_size": 0.15}, 14),
    ("imex", {"step_size": 0.15}, 14),
    ("imex", {}, 2),
])
def test_fixed_steps_by_kind_of_method(method, options, steps):
    t = torch.tensor([0.0, 1.0, 2.1], dtype=torch.float64)
    q = torch.zeros(2, dtype=torch.float64)
    assert fixed_steps(Problem(lambda t, y: y, q, q, t, method, options)) == steps
