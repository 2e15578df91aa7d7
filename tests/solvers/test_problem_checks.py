"""solvers/problem.py: the step count of a fixed-grid solve, its step limit, and methods torchdiffeq does not know."""

import pytest
import torch

from solvers.methods import Imex
from solvers.problem import Problem, _nonzero_steps, fixed_steps
from solvers.registry import METHODS

Q = torch.zeros(2, dtype=torch.float64)
T = torch.tensor([0.0, 1.0], dtype=torch.float64)


def problem(method, options):
    return Problem(lambda t, y: y, Q, Q, T, method, options)


def test_a_partitioned_grid_beyond_its_step_limit_is_refused():
    with pytest.raises(ValueError, match=r"^step_size: 0.01 over \[0, 1\] is 100 steps, more than the limit of 50 "):
        fixed_steps(problem("imex", {"step_size": 0.01, "max_steps": 50}))
    assert fixed_steps(problem("imex", {"step_size": 0.01, "max_steps": 100})) == 100


def test_the_default_step_limit_applies_to_a_partitioned_method():
    with pytest.raises(ValueError, match=r"is 100000000 steps, more than the limit of 10000000 "):
        fixed_steps(problem("verlet", {"step_size": 1e-8}))


def test_a_torchdiffeq_method_is_counted_without_the_partitioned_step_limit():
    assert fixed_steps(problem("rk4", {"step_size": 1e-8})) == 10**8


def test_a_partitioned_method_unknown_to_torchdiffeq_steps_on_the_output_times(monkeypatch):
    class LocalImex(Imex):
        name = "imex_not_in_torchdiffeq"

    monkeypatch.setitem(METHODS, LocalImex.name, LocalImex)
    assert fixed_steps(Problem(lambda t, y: y, Q, Q, torch.tensor([0.0, 0.5, 2.0]), LocalImex.name, {})) == 2
    assert fixed_steps(problem(LocalImex.name, {"step_size": 0.25})) == 4


def test_a_single_output_time_takes_no_step_even_when_t_minus_dt_rounds_to_t():
    assert _nonzero_steps(torch.tensor([1.0e16], dtype=torch.float64), 1.0) == 0
