import math

import pytest
import torch

from graphcon_ode import GATNodeModel, GCNNodeModel, GraphCONField, GraphCONNodeModel, odeint
from graphcon_ode.couplings import GAT, GCN, TransformerAttention
from graphcon_ode.models.node import dropout_features
from tests.graphs import dense_adjacency, gat_dense, gcn_operator, random_graph


@pytest.mark.parametrize("version", [1, 2])
def test_residual_gcn_is_the_authors_formula(version):
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GCN(4, residual=version).double()
    layer = coupling.layers[0]
    w, b = layer.conv.lin.weight.T, layer.conv.bias
    r = layer.residual
    x = torch.randn(9, 4, dtype=torch.float64)
    conv = gcn_operator(edge_index, 9) @ x @ w + b
    rx = (x @ w if version == 1 else x) @ r.weight.T + r.bias
    expected = conv - rx if version == 1 else conv - x @ w + rx
    assert torch.allclose(coupling(x, coupling.prepare(edge_index, 9)), expected, rtol=0, atol=1e-13)


def test_residual_gcn_rejects_unknown_versions():
    with pytest.raises(ValueError, match="residual"):
        GCN(4, residual=3)


def test_residual_gat_adds_a_linear_term():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GAT(4, heads=3, residual=True).double()
    conv, r = coupling.layers[0].conv, coupling.layers[0].residual
    x = torch.randn(9, 4, dtype=torch.float64)
    expected = gat_dense(x, edge_index, conv.lin.weight, conv.att_src, conv.att_dst, conv.bias, 3)
    expected = expected + x @ r.weight.T + r.bias
    assert torch.allclose(coupling(x, coupling.prepare(edge_index, 9)), expected, rtol=0, atol=1e-12)


def dense_attention(layer, x, edge_index):
    """Ā with Ā_ij = (1/H) Σ_h softmax_{j ∈ N_i ∪ {i}} s(q_i^h, k_j^h), written node by node."""
    n, heads, d = x.shape[0], layer.heads, layer.head_channels
    neighbours = dense_adjacency(edge_index, n).bool() | torch.eye(n, dtype=torch.bool)
    q = (x @ layer.query.weight.T + layer.query.bias).view(n, heads, d)
    k = (x @ layer.key.weight.T + layer.key.bias).view(n, heads, d)
    matrix = torch.zeros(n, n, dtype=x.dtype)
    for i in range(n):
        js = neighbours[i].nonzero().squeeze(1)
        for h in range(heads):
            scores = []
            for j in js:
                a, c = q[i, h], k[j, h]
                if layer.attention == "scaled_dot":
                    scores.append(a @ c / math.sqrt(d))
                elif layer.attention == "cosine_sim":
                    scores.append(a @ c / (a.norm() * c.norm()))
                else:
                    scores.append(layer.output_scale ** 2 * torch.exp(-(a - c).pow(2).sum()
                                                                      / (2 * layer.lengthscale ** 2)))
            matrix[i, js] += torch.softmax(torch.stack(scores), 0) / heads
    return matrix


@pytest.mark.parametrize("attention", ["scaled_dot", "cosine_sim", "exp_kernel"])
def test_transformer_attention_matches_a_dense_loop(attention):
    torch.manual_seed(0)
    edge_index = random_graph(8, 12)
    coupling = TransformerAttention(5, heads=3, attention=attention, attention_channels=12).double()
    layer = coupling.layers[0]
    if attention == "exp_kernel":
        with torch.no_grad():
            layer.output_scale.fill_(1.3)
            layer.lengthscale.fill_(2.0)
    x = torch.randn(8, 5, dtype=torch.float64)
    out = coupling(x, coupling.prepare(edge_index, 8))
    assert torch.allclose(out, dense_attention(layer, x, edge_index) @ x, rtol=0, atol=1e-12)


def test_fixed_attention_is_computed_once_from_the_initial_state():
    """With A fixed at A(X0), σ = id and α = γ = Δt = 1, eq. (4) gives X^n = A(X0) X^{n-1} = A(X0)^n X0."""
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = TransformerAttention(4, heads=2, fixed=True).double()
    x0 = torch.randn(9, 4, dtype=torch.float64)
    field = GraphCONField(coupling, alpha=1.0, gamma=1.0, activation=lambda z: z)
    xs, _ = odeint(field.bind(edge_index, initial_state=x0), (x0, x0), torch.arange(4.0),
                   options={"step_size": 1.0})
    a0 = dense_attention(coupling.layers[0], x0, edge_index)
    for n in range(4):
        assert torch.allclose(xs[n], torch.linalg.matrix_power(a0, n) @ x0, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="initial_state"):
        odeint(field.bind(edge_index), (x0, x0), torch.arange(2.0), options={"step_size": 1.0})


def test_transformer_attention_rows_are_convex_combinations():
    torch.manual_seed(1)
    edge_index = random_graph(10, 20)
    coupling = TransformerAttention(6, heads=2).double()
    constant = torch.full((10, 6), 3.0, dtype=torch.float64)
    assert torch.allclose(coupling(constant, coupling.prepare(edge_index, 10)), constant, atol=1e-13)


def test_transformer_attention_rejects_bad_options():
    with pytest.raises(ValueError, match="attention"):
        TransformerAttention(4, attention="dot")
    with pytest.raises(ValueError, match="attention_channels"):
        TransformerAttention(4, heads=3, attention_channels=8)
    with pytest.raises(ValueError, match="fixed"):
        TransformerAttention(4, fixed=True, num_steps=3, step_size=1.0)


def test_unit_coefficients_make_eq4_a_plain_layer_stack():
    """With α = γ = Δt = 1, eq. (4) gives Y^n = σ(F(X^{n-1})) − X^{n-1}, hence X^n = σ(F(X^{n-1})) exactly."""
    torch.manual_seed(0)
    edge_index = random_graph(12, 25)
    coupling = GCN(3).double()
    graph = coupling.prepare(edge_index, 12)
    x0 = torch.randn(12, 3, dtype=torch.float64)
    xs, _ = odeint(GraphCONField(coupling, alpha=1.0, gamma=1.0).bind(edge_index), (x0, x0),
                   torch.arange(6.0), options={"step_size": 1.0})
    x = x0
    for n in range(1, 6):
        x = torch.relu(coupling(x, graph))
        assert torch.allclose(xs[n], x, rtol=0, atol=1e-12)


def test_sparse_feature_dropout_is_dense_dropout_on_the_stored_entries():
    torch.manual_seed(0)
    dense = (torch.rand(200, 50) < 0.05).float() * 2.0
    dropped = dropout_features(dense.to_sparse(), 0.25, True).to_dense()
    kept = dropped != 0
    assert not (kept & (dense == 0)).any()
    assert torch.allclose(dropped[kept], torch.full_like(dropped[kept], 2.0 / 0.75))
    assert 0.6 < kept.sum() / (dense != 0).sum() < 0.9
    assert dropout_features(dense.to_sparse(), 0.25, False).to_dense().equal(dense)


def test_sparse_features_give_the_dense_model():
    torch.manual_seed(0)
    edge_index = random_graph(20, 40)
    x = (torch.rand(20, 30) < 0.1).float()
    for model in (GraphCONNodeModel(30, 8, 3, num_layers=3, input_dropout=0.5, step_dropout=0.2),
                  GCNNodeModel(30, 8, 3), GATNodeModel(30, 4, 3, heads=2)):
        model.eval()
        assert torch.allclose(model(x.to_sparse(), edge_index), model(x, edge_index), atol=1e-6)


def test_drop_edge_thins_the_graph_in_training_only():
    torch.manual_seed(0)
    edge_index = random_graph(30, 80)
    x = torch.randn(30, 5)
    plain = GCNNodeModel(5, 8, 3, num_layers=3, dropout=0.0)
    thinned = GCNNodeModel(5, 8, 3, num_layers=3, dropout=0.0, drop_edge=0.5)
    thinned.load_state_dict(plain.state_dict())
    plain.eval()
    thinned.eval()
    assert torch.equal(thinned(x, edge_index), plain(x, edge_index))
    thinned.train()
    assert not torch.allclose(thinned(x, edge_index), plain(x, edge_index))
    assert len(thinned._graph(edge_index).t()) < len(edge_index.t())
    with pytest.raises(ValueError, match="drop_edge"):
        GCNNodeModel(5, 8, 3, drop_edge=1.0)


def test_gat_baseline_shapes():
    model = GATNodeModel(7, 4, 3, heads=5, num_layers=3)
    edge_index = random_graph(11, 20)
    x = torch.randn(11, 7)
    assert model.hidden(x, edge_index).shape == (11, 20)
    assert model(x, edge_index).shape == (11, 3)


def test_node_model_builds_each_named_coupling():
    edge_index = random_graph(11, 20)
    x = torch.randn(11, 7)
    for coupling, options in (("gcn", {"residual": 2}), ("gat", {"residual": True}),
                              ("transformer", {"attention": "cosine_sim"}),
                              ("transformer", {"attention": "exp_kernel", "fixed": True})):
        model = GraphCONNodeModel(7, 6, 3, coupling=coupling, heads=2, num_layers=2, coupling_options=options,
                                  alpha=0.0, gamma=0.0)
        model(x, edge_index).sum().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_uniform_init_draws_every_weight_matrix_from_the_authors_range():
    torch.manual_seed(0)
    model = GraphCONNodeModel(300, 64, 5, coupling_options={"residual": 1}, uniform_init=True)
    weights = {name: p for name, p in model.named_parameters() if name.endswith("weight")}
    assert len(weights) == 4
    for weight in weights.values():
        assert weight.abs().max() <= 1 / 8 and abs(weight.std().item() - 1 / 8 / 3 ** 0.5) < 0.01
