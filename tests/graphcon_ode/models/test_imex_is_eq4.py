"""odeint(method="imex") is N layers of eq. (4), checked against a loop written here from the equation."""

import pytest
import torch
import torchdiffeq

from graphcon_ode import GAT, GCN, GraphCONField, odeint
from tests.graphs import gat_dense, gcn_operator, random_graph

N_NODES, CHANNELS, STEPS, DT = 12, 5, 20, 0.1
ALPHA, GAMMA = 0.5, 1.3


def coupling_reference(coupling, edge_index):
    """F^n(X) for layer n, written from eq. (5) / Section 2 with the layer's own weights."""

    def apply(n, x):
        layer = coupling.layers[n if coupling.per_step else 0]
        if isinstance(coupling, GCN):
            return gcn_operator(edge_index, N_NODES) @ x @ layer.lin.weight.T + layer.bias
        return gat_dense(x, edge_index, layer.lin.weight, layer.att_src, layer.att_dst, layer.bias, layer.heads)

    return apply


def eq4_loop(coupling, edge_index, x, y, steps, dt, alpha, gamma):
    """Y^n = Y^{n−1} + Δt[σ(F(X^{n−1}, t_{n−1})) − γX^{n−1} − αY^{n−1}],  X^n = X^{n−1} + Δt Y^n."""
    force = coupling_reference(coupling, edge_index)
    xs = [x]
    for n in range(steps):
        y = y + dt * (torch.relu(force(n, x)) - gamma * x - alpha * y)
        x = x + dt * y
        xs.append(x)
    return torch.stack(xs), y


@pytest.mark.parametrize("per_step", [False, True], ids=["shared", "per-step"])
@pytest.mark.parametrize("kind", ["gcn", "gat"])
def test_odeint_imex_equals_eq4_layers(kind, per_step):
    torch.manual_seed(0)
    num_steps = STEPS if per_step else None
    coupling = (GCN(CHANNELS, num_steps=num_steps, step_size=DT) if kind == "gcn"
                else GAT(CHANNELS, heads=2, num_steps=num_steps, step_size=DT))
    field = GraphCONField(coupling, alpha=ALPHA, gamma=GAMMA).double()
    edge_index = random_graph(N_NODES, 30)
    x0 = torch.randn(N_NODES, CHANNELS, dtype=torch.float64)
    y0 = torch.randn(N_NODES, CHANNELS, dtype=torch.float64)
    t = torch.linspace(0, STEPS * DT, 5, dtype=torch.float64)

    with torch.no_grad():
        expected_xs, expected_y = eq4_loop(field.coupling, edge_index, x0, y0, STEPS, DT, ALPHA, GAMMA)
        xs, ys = odeint(field.bind(edge_index), (x0, y0), t, method="imex", options={"step_size": DT})
        txs, tys = torchdiffeq.odeint(field.bind(edge_index), (x0, y0), t, method="imex",
                                      options={"step_size": DT})

    scale = expected_xs.abs().max()
    assert scale > 0.1
    for k in range(len(t)):
        assert (xs[k] - expected_xs[5 * k]).abs().max() <= 1e-12 * scale
    assert (ys[-1] - expected_y).abs().max() <= 1e-12 * expected_y.abs().max()
    assert (txs - xs).abs().max() <= 1e-12 * scale
    assert (tys - ys).abs().max() <= 1e-12 * expected_y.abs().max()


def test_per_step_weights_use_layer_n_on_step_n():
    torch.manual_seed(0)
    edge_index = random_graph(N_NODES, 30)
    x0 = torch.randn(N_NODES, CHANNELS, dtype=torch.float64)
    per_step = GraphCONField(GCN(CHANNELS, num_steps=STEPS, step_size=DT)).double()
    shared = GraphCONField(GCN(CHANNELS)).double()
    shared.coupling.layers[0].load_state_dict(per_step.coupling.layers[0].state_dict())

    def solve(field, steps):
        t = torch.tensor([0.0, steps * DT], dtype=torch.float64)
        with torch.no_grad():
            return odeint(field.bind(edge_index), (x0, x0), t, options={"step_size": DT})[0][-1]

    assert torch.equal(solve(per_step, 1), solve(shared, 1)), "step 1 uses W^0 in both"
    assert (solve(per_step, 2) - solve(shared, 2)).abs().max() > 1e-3, "step 2 uses W^1 only with per-step weights"
