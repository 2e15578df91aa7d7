"""The GraphCON field (eq. (3)) where the broader tests leave its numbers and messages free: bounded learnable
coefficients, time-dependent couplings, states of another size than the last one, and what a bad state is told."""

import math

import pytest
import torch
from torch import nn

from graphcon_ode import GCN, GraphCONField
from graphcon_ode.couplings.base import Coupling
from tests.graphs import gcn_operator

EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


class Scale(nn.Module):
    """c · Σ_{j → i} x_j, a layer without parameters."""

    def __init__(self, c: float):
        super().__init__()
        self.c = c

    def forward(self, x, edge_index):
        return self.c * torch.zeros_like(x).index_add_(0, edge_index[1], x[edge_index[0]])


def test_bounded_learnable_coefficients_start_at_their_value_and_follow_the_sigmoid_map():
    field = GraphCONField(Coupling(Scale(1.0)), alpha=0.5, gamma=1.5, learn_alpha=True, learn_gamma=True,
                          alpha_range=(0.2, 0.9), gamma_range=(1.0, 3.0))
    assert field.alpha.item() == pytest.approx(0.5, abs=1e-6)
    assert field.gamma.item() == pytest.approx(1.5, abs=1e-6)
    with torch.no_grad():
        field.damping.raw.fill_(0.0)
        field.frequency.raw.fill_(2.0)
    assert field.alpha.item() == pytest.approx(0.2 + 0.7 * 0.5, abs=1e-6)
    assert field.gamma.item() == pytest.approx(1.0 + 2.0 / (1.0 + math.exp(-2.0)), abs=1e-6)


def test_reprs_quote_the_coefficients_and_the_graph():
    fixed = GraphCONField(Coupling(Scale(1.0)), alpha=0.5, gamma=2.0)
    assert fixed.extra_repr() == "alpha=0.5, gamma=2"
    assert fixed.damping.extra_repr() == "alpha=0.5"
    learned = GraphCONField(Coupling(Scale(1.0)), alpha=0.5, gamma=2.0, learn_alpha=True, learn_gamma=True,
                            gamma_range=(1.0, 3.0))
    assert learned.damping.extra_repr() == "alpha=0.5, learnable (softplus)"
    assert learned.frequency.extra_repr() == "gamma=2, learnable (sigmoid in (1.0, 3.0))"
    assert fixed.bind(EDGES).extra_repr() == "num_edges=4"


def test_an_unbound_field_names_edge_index():
    field = GraphCONField(Coupling(Scale(1.0)))
    x = torch.ones(3, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^edge_index: this GraphCONField is not bound"):
        field(torch.tensor(0.0), (x, x))


def test_forward_evaluates_the_coupling_of_the_step_at_time_t():
    """Per-step layers W^n on [nΔt, (n+1)Δt): at t = 1.5, Δt = 1 the field uses W^1."""
    coupling = Coupling([Scale(1.0), Scale(-3.0)], step_size=1.0)
    f = GraphCONField(coupling, alpha=0.25, gamma=2.0, activation=lambda v: v).bind(EDGES)
    x = torch.tensor([[1.0], [2.0], [4.0]], dtype=torch.float64)
    y = torch.tensor([[0.5], [-1.0], [3.0]], dtype=torch.float64)
    neighbour_sum = torch.tensor([[2.0], [5.0], [2.0]], dtype=torch.float64)
    dx, dy = f(torch.tensor(1.5, dtype=torch.float64), (x, y))
    assert torch.equal(dx, y)
    torch.testing.assert_close(dy, -3.0 * neighbour_sum - 2.0 * x - 0.25 * y, rtol=0, atol=1e-15)


def test_a_state_with_more_rows_than_the_last_gets_its_own_graph_preparation():
    """Bound without num_nodes, the field prepares the graph per number of rows: nodes 3 and 4 have only their
    self-loop in D̂^{−1/2} Â D̂^{−1/2}."""
    torch.manual_seed(0)
    coupling = GCN(2).double()
    f = GraphCONField(coupling, alpha=0.0, gamma=1.0).bind(EDGES)
    layer = coupling.layers[0]
    t = torch.tensor(0.0, dtype=torch.float64)
    for n in (3, 5, 3):
        x = torch.randn(n, 2, dtype=torch.float64)
        expected = torch.relu(gcn_operator(EDGES, n) @ x @ layer.lin.weight.T + layer.bias)
        torch.testing.assert_close(f.force(t, x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rows, message", [
    (torch.ones(3), r"^y0: node features must have shape \[num_nodes, channels\], got \[3\]"),
    (torch.ones(2, 2), r"^edge_index: node index 2 is out of range for 2 nodes in y0"),
    (torch.ones(3, 3), r"^y0: the coupling works on 2 channels, got node features with 3"),
])
def test_check_state_names_what_does_not_fit(rows, message):
    f = GraphCONField(GCN(2).double()).bind(EDGES)
    with pytest.raises(ValueError, match=message):
        f.check_state(rows.double())


def test_check_state_names_the_dtypes_and_accepts_a_field_without_parameters():
    f = GraphCONField(GCN(2)).bind(EDGES)
    with pytest.raises(ValueError, match=r"^y0: the state is torch.float64 but the field's parameters are "
                                         r"torch.float32; convert one of them \(e.g. field.to\(torch.float64\)\)"):
        f.check_state(torch.ones(3, 2, dtype=torch.float64))
    GraphCONField(Coupling(Scale(1.0))).bind(EDGES).check_state(torch.ones(3, 2, dtype=torch.float64))
