"""Backward mode "backprop": the step limit of partitioned solves and the tolerances of torchdiffeq solves."""

import pytest
import torch

from graphcon_ode import odeint
from solvers.backward.backprop import Backprop
from solvers.problem import Problem
from solvers.stats import SolveStats
from solvers.system import CountedFunction
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
T = torch.tensor([0.0, 1.0], dtype=torch.float64)


def test_run_keeps_the_step_limit_of_the_problem():
    system = DrivenOscillator(alpha=0.6)
    problem = Problem(system, Q0, P0, T, "imex", options={"step_size": 0.1, "max_steps": 5})
    stats = SolveStats("imex", "backprop")
    with pytest.raises(ValueError, match=r"^step_size: 0.1 over \[0, 1\] is 10 steps, more than the limit of 5 "):
        Backprop().run(problem, CountedFunction(system, stats), stats)


def test_run_takes_a_grid_at_the_step_limit():
    system = DrivenOscillator(alpha=0.6)
    problem = Problem(system, Q0, P0, T, "imex", options={"step_size": 0.1, "max_steps": 10})
    stats = SolveStats("imex", "backprop")
    qs, ps = Backprop().run(problem, CountedFunction(system, stats), stats)
    assert qs.shape == (2, 2) and stats.nfe_forward == 10


def adaptive(rtol, atol):
    """dopri5 on the driven oscillator over [0, 1]: its worst error against the closed form, and its evaluations."""
    system = DrivenOscillator(alpha=0.5)
    (qs, ps), stats = odeint(system, (Q0, P0), T, method="dopri5", rtol=rtol, atol=atol, return_stats=True)
    q, p = system.exact(1.0, Q0, P0)
    return max(float((qs[-1] - q).abs().max()), float((ps[-1] - p).abs().max())), stats.nfe_forward


def test_the_relative_tolerance_reaches_the_adaptive_solver():
    loose_error, loose_nfe = adaptive(1e-3, 1e-12)
    tight_error, tight_nfe = adaptive(1e-8, 1e-12)
    assert tight_error <= 1e-8 < 1e-5 <= loose_error <= 1e-2
    assert loose_nfe < tight_nfe


def test_the_absolute_tolerance_reaches_the_adaptive_solver():
    loose_error, loose_nfe = adaptive(1e-12, 1e-3)
    tight_error, tight_nfe = adaptive(1e-12, 1e-8)
    assert tight_error <= 1e-7 < 1e-5 <= loose_error <= 1e-2
    assert loose_nfe < tight_nfe
