"""solvers/system.py: a trained coefficient is read as a number outside autograd."""

import warnings

import torch

from solvers.system import as_number


def test_a_trained_coefficient_is_read_without_touching_its_graph():
    alpha = torch.tensor(0.75, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = as_number(alpha * 2.0)
    assert value == 1.5 and type(value) is float
    assert as_number(3) == 3.0 and type(as_number(3)) is float
