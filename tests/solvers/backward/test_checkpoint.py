"""Backward mode "checkpoint": its block length, its outputs inside a block, and its own step limit."""

import pytest
import torch

from graphcon_ode import odeint
from solvers.backward.checkpoint import Checkpoint
from solvers.problem import Problem
from solvers.stats import SolveStats
from solvers.system import CountedFunction
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)


def solve(t, backward, step_size=0.1, method="imex"):
    return odeint(DrivenOscillator(alpha=0.6), (Q0, P0), torch.tensor(t, dtype=torch.float64), method=method,
                  options={"step_size": step_size}, backward=backward, return_stats=True)


@pytest.mark.parametrize("end, every", [(0.1, 1), (0.4, 2), (1.6, 4), (1.7, 5)])
def test_default_block_is_the_ceiling_of_the_square_root_of_the_steps(end, every):
    _, stats = solve([0.0, end], "checkpoint")
    assert stats.extra["checkpoint_every"] == every


def test_a_given_block_length_is_reported():
    _, stats = solve([0.0, 1.6], Checkpoint(every=3))
    assert stats.extra["checkpoint_every"] == 3


@pytest.mark.parametrize("method", ["imex", "verlet"])
def test_every_output_of_a_block_is_the_backprop_output(method):
    t = [0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.7]
    (qs, ps), _ = solve(t, Checkpoint(every=4), method=method)
    (q_ref, p_ref), _ = solve(t, "backprop", method=method)
    assert torch.equal(qs, q_ref) and torch.equal(ps, p_ref)


def test_run_keeps_the_step_limit_of_the_problem():
    system = DrivenOscillator(alpha=0.6)
    problem = Problem(system, Q0, P0, torch.tensor([0.0, 1.0], dtype=torch.float64), "imex",
                      options={"step_size": 0.1, "max_steps": 5})
    stats = SolveStats("imex", "checkpoint")
    with pytest.raises(ValueError, match=r"^step_size: 0.1 over \[0, 1\] is 10 steps, more than the limit of 5 "):
        Checkpoint().run(problem, CountedFunction(system, stats), stats)
