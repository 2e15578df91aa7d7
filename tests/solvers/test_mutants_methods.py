"""What the fixed-step methods say about their stability and their limits, with the numbers of the system quoted."""

import pytest
import torch

from solvers.methods import Imex, ImexImplicit, PartitionedMethod, Verlet
from tests.solvers.oscillators import DrivenOscillator


class Plain:
    """p' = −q, a system without the split protocol."""

    def acceleration(self, t, q, p):
        return -q


NUMBERS = " (here alpha*dt = 0.05, dt**2*gamma = 0.02)"


@pytest.mark.parametrize("method, bound", [
    (Imex(), "alpha*dt <= 2 and dt**2*gamma <= 4 - 2*alpha*dt on the linear part"),
    (ImexImplicit(), "dt**2*gamma <= 4 + 2*alpha*dt on the linear part"),
    (Verlet(), "dt**2*gamma <= 4 on the linear part, any alpha"),
])
def test_stability_states_the_bound_and_the_numbers_of_a_split_system(method, bound):
    assert method.stability(DrivenOscillator(alpha=0.5, gamma=2.0), 0.1) == bound + NUMBERS
    assert method.stability(Plain(), 0.1) == bound


def test_the_base_method_has_no_bound_and_no_inverse():
    class Forward(PartitionedMethod):
        name, order = "forward_only", 1

    method = Forward()
    assert method.stability(Plain(), 0.1) == "no stability bound is known for this method"
    q = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(NotImplementedError, match=r"^method 'forward_only' is not invertible$"):
        method.inverse(DrivenOscillator(alpha=0.5), torch.tensor(0.0), 0.1, q, q)


def test_implicit_damping_refuses_the_step_where_one_plus_alpha_dt_vanishes():
    q = torch.ones(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^dt: method='imex_implicit' needs 1 \+ alpha\*dt != 0, "
                                         r"got alpha=0.5, dt=-2.0$"):
        ImexImplicit().step(DrivenOscillator(alpha=0.5), torch.tensor(0.0, dtype=torch.float64), -2.0, q, q)
