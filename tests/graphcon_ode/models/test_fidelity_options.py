"""Node-model options restating the authors' code: source term, Y⁰ ≠ X⁰, and their GraphCON-GAT force.

Each model is checked against its equations written out here in float64 (dense operators, eval mode).
"""

import pytest
import torch
import torch.nn.functional as F

from graphcon_ode.models import GraphCONNodeModel
from tests.graphs import dense_adjacency, gcn_operator, random_graph

NODES, FEATURES, HIDDEN, CLASSES, LAYERS, DT = 9, 5, 8, 3, 4, 0.5


def _identity(x):
    return x


def tiny(seed=0, **options):
    torch.manual_seed(seed)
    model = GraphCONNodeModel(FEATURES, HIDDEN, CLASSES, num_layers=LAYERS, step_size=DT, alpha=0.4, gamma=0.7,
                              **options).double()
    return model, torch.randn(NODES, FEATURES, dtype=torch.float64), random_graph(NODES, 16, seed=seed)


def test_source_term_adds_kappa_times_the_detached_initial_state():
    model, x, edge_index = tiny(source=0.3)
    with torch.no_grad():
        model.field.source_weight.fill_(0.8)
        model.field.coupling.layers[0].bias.normal_()
    model.eval()
    conv, a_hat = model.field.coupling.layers[0], gcn_operator(edge_index, NODES)

    def loop():
        """Y⁺ = Y + Δt(ReLU(ÂXW + b) + κX̄⁰ − γX − αY), X⁺ = X + ΔtY⁺, X⁰ = Y⁰ = ReLU(W_enc x + b_enc)."""
        h = torch.relu(x @ model.encoder.weight.T + model.encoder.bias)
        big_x, big_y, source = h, h, h.detach()
        for _ in range(LAYERS):
            force = torch.relu(a_hat @ big_x @ conv.lin.weight.T + conv.bias) + model.field.source_weight * source
            big_y = big_y + DT * (force - 0.7 * big_x - 0.4 * big_y)
            big_x = big_x + DT * big_y
        return big_x @ model.decoder.weight.T + model.decoder.bias

    logits, expected = model(x, edge_index), loop()
    assert torch.allclose(logits, expected, rtol=1e-12, atol=1e-12)
    params = list(model.parameters())
    got = torch.autograd.grad(logits.sin().sum(), params)
    for g, e in zip(got, torch.autograd.grad(expected.sin().sum(), params)):
        assert torch.allclose(g, e, rtol=1e-10, atol=1e-12)
    assert float(got[[n for n, _ in model.named_parameters()].index("field.source_weight")].abs()) > 0


@pytest.mark.parametrize("mode", ["independent_dropout", "zero"])
def test_initial_velocity_options(mode):
    model, x, _ = tiny(initial_velocity=mode, dropout=0.5)
    model.train()
    torch.manual_seed(3)
    x0, y0 = model.initial_state(x)
    h = torch.relu(x @ model.encoder.weight.T + model.encoder.bias)
    kept = x0 != 0
    assert torch.allclose(x0[kept], 2 * h[kept])
    if mode == "zero":
        assert not y0.any()
        return
    kept_y = y0 != 0
    assert torch.allclose(y0[kept_y], 2 * h[kept_y])
    assert (kept != kept_y).any(), "X⁰ and Y⁰ draw their own dropout masks"
    model.eval()
    x0, y0 = model.initial_state(x)
    assert torch.equal(x0, y0)


def test_unknown_initial_velocity_is_refused():
    with pytest.raises(ValueError, match="initial_velocity"):
        GraphCONNodeModel(FEATURES, HIDDEN, CLASSES, initial_velocity="random")


def concatenated_gat(x, edge_index, conv, heads):
    """GATConv(m, m, heads) with concatenated heads: [Σ_j A^h_ij W_h X_j]_h + b, A^h = softmax_{j ∈ N_i ∪ {i}}
    LeakyReLU(a^h_dst·W_h X_i + a^h_src·W_h X_j)."""
    n = x.shape[0]
    mask = dense_adjacency(edge_index, n).bool() | torch.eye(n, dtype=torch.bool)
    wx = (x @ conv.lin.weight.T).view(n, heads, -1)
    outs = []
    for h in range(heads):
        logits = F.leaky_relu((wx[:, h] @ conv.att_dst[0, h])[:, None] + (wx[:, h] @ conv.att_src[0, h])[None, :],
                              0.2)
        outs.append(torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=1) @ wx[:, h])
    return torch.cat(outs, dim=1) + conv.bias


def test_authors_gat_force_averages_adjacent_channels_after_elu():
    heads = 4
    model, x, edge_index = tiny(coupling="gat-authors", heads=heads, activation=_identity)
    with torch.no_grad():
        model.field.coupling.layers[0].conv.bias.normal_()
    model.eval()
    layer = model.field.coupling.layers[0]

    def loop():
        """Y⁺ = Y + Δt(g(X) − γX − αY), g(X) = mean_k reshape(ELU(GATConv_4(X) + R X), (n, m, 4))."""
        big_x = big_y = torch.relu(x @ model.encoder.weight.T + model.encoder.bias)
        for _ in range(LAYERS):
            z = F.elu(concatenated_gat(big_x, edge_index, layer.conv, heads) + big_x @ layer.residual.weight.T
                      + layer.residual.bias)
            force = torch.stack([z[:, c * heads:(c + 1) * heads].mean(dim=1) for c in range(HIDDEN)], dim=1)
            big_y = big_y + DT * (force - 0.7 * big_x - 0.4 * big_y)
            big_x = big_x + DT * big_y
        return big_x @ model.decoder.weight.T + model.decoder.bias

    assert torch.allclose(model(x, edge_index), loop(), rtol=1e-11, atol=1e-12)
