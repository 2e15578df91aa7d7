"""The fixed grid: float64 points from the integer step index whatever the times' dtype, and a limit on its size."""

import pytest
import torch

from graphcon_ode import odeint
from solvers import integrate
from solvers.grid import MAX_STEPS, fixed_grid, output_plan, step_count
from solvers.methods import Imex
from tests.solvers.oscillators import DrivenOscillator


def test_float32_times_with_2e7_steps_give_no_zero_length_step():
    """Δt = 0.05 to T = 10⁶: neighbouring points kΔt are 1/16 of float32's spacing apart near T (0.0625 at 10⁶),
    so a grid built in float32 repeats values; built in float64 every step has length Δt to float64 round-off."""
    t = torch.tensor([0.0, 1.0e6], dtype=torch.float32)
    grid = torch.tensor(fixed_grid(t, 0.05, max_steps=2 * 10**7), dtype=torch.float64)
    steps = grid[1:] - grid[:-1]
    assert len(steps) == 2 * 10**7
    assert float(steps.min()) > 0.05 * (1 - 1e-6) and float(steps.max()) < 0.05 * (1 + 1e-6)
    assert float(grid[-1]) == 1.0e6


def test_float64_grid_is_k_times_step_size_plus_start():
    t = torch.tensor([0.3, 1.0], dtype=torch.float64)
    grid = fixed_grid(t, 0.1)
    assert grid[:-1] == [k * 0.1 + 0.3 for k in range(len(grid) - 1)] and grid[-1] == 1.0
    assert fixed_grid(-t, 0.1) == [-x for x in grid]


def test_float32_output_times_land_on_the_grid_points_they_round_to():
    t = torch.tensor([0.0, 0.1, 0.7], dtype=torch.float32)
    grid = fixed_grid(t, 0.1)
    plan = output_plan(t.tolist(), grid, t.dtype)
    assert plan[0] == ((1, 1.0),) and plan[-1] == ((2, 1.0),)
    assert all(entry == () for entry in plan[1:-1])


def test_more_steps_than_the_limit_is_refused_before_anything_is_built():
    t = torch.tensor([0.0, 1.0e7], dtype=torch.float32)
    with pytest.raises(ValueError, match=r"step_size: 0.1 .* 100000000 steps, more than the limit of 10000000"):
        fixed_grid(t, 0.1)
    assert MAX_STEPS == 10**7
    q0 = p0 = torch.zeros(2)
    with pytest.raises(ValueError, match="max_steps"):
        integrate(Imex(), DrivenOscillator(alpha=0.5), q0, p0, t, 0.1)


def test_the_limit_is_an_option_of_the_solve():
    q0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    p0 = torch.zeros(2, dtype=torch.float64)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"step_size: 0.01 .* 100 steps, more than the limit of 50"):
        odeint(DrivenOscillator(alpha=0.5), (q0, p0), t, method="imex", options={"step_size": 0.01, "max_steps": 50})
    with pytest.raises(ValueError, match="max_steps"):
        odeint(DrivenOscillator(alpha=0.5), (q0, p0), t, method="imex", options={"step_size": 0.01, "max_steps": 0})
    qs, _ = odeint(DrivenOscillator(alpha=0.5), (q0, p0), t, method="imex", options={"step_size": 0.01,
                                                                                      "max_steps": 100})
    assert qs.shape == (2, 2)


@pytest.mark.parametrize("end, dt", [(0.05, 0.05), (0.3, 0.1), (2.1, 0.15), (4.0, 0.125), (1.1, 0.1)])
def test_float32_times_count_steps_as_torchdiffeq_does(end, dt):
    """The quotient (T − t₀)/Δt in the times' own dtype: float32(0.05)/0.05 is 1, not 1 + 1.5e-8 (a sliver step)."""
    import torchdiffeq

    t = torch.tensor([0.0, end])
    steps = step_count(t, dt)
    calls = []

    def f(time, y):
        calls.append(float(time))
        return -y

    torchdiffeq.odeint(f, torch.ones(1), t, method="euler", options={"step_size": dt})
    assert steps == len(calls)
    q0 = torch.ones(3)
    (qs, _), stats = odeint_partitioned(q0, t, dt)
    assert stats.steps == steps and stats.nfe_forward == steps


def odeint_partitioned(q0, t, dt):
    from graphcon_ode import odeint

    def field(time, state):
        return state[1], -state[0]

    return odeint(field, (q0, torch.zeros_like(q0)), t, method="imex", options={"step_size": dt},
                  return_stats=True)
