"""Every backward mode reports the same number of steps: a rounded grid's zero-length last step is not one."""

import pytest
import torch

from graphcon_ode import odeint
from solvers.grid import fixed_grid
from tests.solvers.oscillators import DrivenOscillator

T = torch.tensor([0.0, 2.1], dtype=torch.float64)
STEP = 0.15


def test_the_grid_of_this_case_ends_on_a_zero_length_step():
    grid = fixed_grid(T, STEP)
    assert len(grid) == 16 and grid[-1] == grid[-2]


@pytest.mark.parametrize("backward", ["backprop", "checkpoint", "reversible", "exact_reversal"])
def test_steps_count_only_steps_of_nonzero_length(backward):
    system = DrivenOscillator(alpha=0.5)
    q0 = torch.tensor([0.3, -0.2], dtype=torch.float64)
    p0 = torch.tensor([0.1, 0.4], dtype=torch.float64)
    _, stats = odeint(system, (q0, p0), T, method="imex", options={"step_size": STEP}, backward=backward,
                      return_stats=True)
    assert stats.steps == 14
