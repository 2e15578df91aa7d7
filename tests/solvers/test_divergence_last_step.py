"""A velocity that turns non-finite in the last step of non-zero length is caught, also when a rounded grid
ends on a step of length 0."""

import pytest
import torch

from solvers.integrate import DivergedError, integrate
from solvers.methods import Verlet


class NanAfterTwo:
    """q'' = g(t, q) with g finite before t = 2 and nan from there on: only Verlet's closing kick sees it."""

    alpha = 0.0
    gamma = 0.0

    def force(self, t, q):
        return torch.full_like(q, float("nan")) if float(t) >= 2.0 else -q

    def acceleration(self, t, q, p):
        return self.force(t, q)


@pytest.mark.parametrize(("end", "step"), [(2.1, 0.15), (2.25, 0.25)])
def test_a_nan_velocity_of_the_last_step_raises(end, step):
    q0 = torch.tensor([1.0, 0.5], dtype=torch.float64)
    p0 = torch.zeros(2, dtype=torch.float64)
    t = torch.tensor([0.0, end], dtype=torch.float64)
    with pytest.raises(DivergedError, match="became non-finite"):
        integrate(Verlet(), NanAfterTwo(), q0, p0, t, step)
