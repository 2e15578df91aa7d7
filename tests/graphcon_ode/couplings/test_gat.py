import pytest
import torch
import torch.nn.functional as F

from graphcon_ode import GraphCONField, GraphCONNodeModel, odeint
from graphcon_ode.couplings import GAT, ChannelMeanGAT
from tests.graphs import gat_dense, random_graph

# 8 nodes: 1 → 0 and 3 → 2 listed twice, self-loops on 2 and 5, nodes 6 and 7 without any edge.
EDGES = torch.tensor([[0, 1, 1, 2, 3, 3, 4, 5, 1, 0, 2, 4],
                      [1, 0, 0, 3, 2, 2, 1, 5, 4, 2, 2, 3]])
N, M = 8, 4


def randomise(module: torch.nn.Module, seed: int = 3) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


def values_and_gradients(fn, x, parameters):
    """f(x) and the gradients of Σ f(x) ⊙ R (R fixed random) with respect to x and every parameter."""
    out = fn(x)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=out.dtype)
    return out, torch.autograd.grad((out * weights).sum(), [x, *parameters])


def assert_same(got, expected, tolerance=1e-12):
    (out, grads), (ref, ref_grads) = got, expected
    assert torch.allclose(out, ref, rtol=0, atol=tolerance)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        assert torch.allclose(grad, ref_grad, rtol=0, atol=tolerance)


def test_gat_matches_dense_attention():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GAT(4, heads=3).double()
    x = torch.randn(9, 4, dtype=torch.float64)
    layer = coupling.layers[0]
    expected = gat_dense(x, edge_index, layer.lin.weight, layer.att_src, layer.att_dst, layer.bias, 3)
    out = coupling(x, coupling.prepare(edge_index, 9))
    assert torch.allclose(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_gat_equals_pyg_gatconv_values_and_gradients(heads, residual, bias):
    coupling = GAT(M, heads=heads, residual=residual, bias=bias).double()
    randomise(coupling)
    layer = coupling.layers[0]
    conv = layer.conv if residual else layer
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    graph = coupling.prepare(EDGES, N)
    parameters = list(coupling.parameters())

    def pyg(v):
        out = conv(v, EDGES)
        return out + layer.residual(v) if residual else out

    assert_same(values_and_gradients(lambda v: coupling(v, graph), x, parameters),
                values_and_gradients(pyg, x, parameters))


@pytest.mark.parametrize("heads", [1, 4])
def test_channel_mean_gat_equals_its_pyg_formula(heads):
    coupling = ChannelMeanGAT(M, heads=heads).double()
    randomise(coupling)
    layer = coupling.layers[0]
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    graph = coupling.prepare(EDGES, N)

    def pyg(v):  # the authors' force: ELU(GATConv_k(X) + R X), k adjacent channels averaged
        return F.elu(layer.conv(v, EDGES) + layer.residual(v)).view(N, M, heads).mean(dim=-1)

    parameters = list(coupling.parameters())
    assert_same(values_and_gradients(lambda v: coupling(v, graph), x, parameters),
                values_and_gradients(pyg, x, parameters))


def test_training_mode_without_dropout_equals_pyg():
    coupling = GAT(M, heads=2, dropout=0.0).double().train()
    randomise(coupling)
    layer = coupling.layers[0]
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(4), requires_grad=True)
    graph = coupling.prepare(EDGES, N)
    parameters = list(coupling.parameters())
    assert_same(values_and_gradients(lambda v: coupling(v, graph), x, parameters),
                values_and_gradients(lambda v: layer(v, EDGES), x, parameters))


def test_attention_dropout_is_unbiased_and_acts_in_training_only():
    """E[dropout(α)] = α, so the mean over draws of the (α-linear) output tends to the evaluation output."""
    coupling = GAT(M, heads=2, dropout=0.5).double()
    randomise(coupling)
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    graph = coupling.prepare(EDGES, N)
    with torch.no_grad():
        expected = coupling.eval()(x, graph)
        assert torch.equal(coupling(x, graph), expected)
        coupling.train()
        torch.manual_seed(0)
        draws = torch.stack([coupling(x, graph) for _ in range(4000)])
    assert not torch.allclose(draws[0], expected, atol=1e-3)
    spread = draws.std(dim=0) / 4000 ** 0.5
    assert ((draws.mean(dim=0) - expected).abs() <= 5 * spread + 1e-12).all()


def test_graphcon_gat_through_odeint_equals_a_hand_loop_over_gatconv():
    """Eq. (4) with per-step GAT weights: odeint's imex steps against the loop over PyG's layer, values and
    gradients."""
    steps, dt = 3, 0.5
    coupling = GAT(M, heads=2, num_steps=steps, step_size=dt).double()
    randomise(coupling)
    field = GraphCONField(coupling, alpha=0.5, gamma=1.0, activation=F.elu)
    x0 = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(6), requires_grad=True)
    parameters = list(coupling.parameters())
    bound = field.bind(EDGES)
    t = torch.tensor([0.0, steps * dt], dtype=torch.float64)

    def library(v):
        return odeint(bound, (v, v), t, method="imex", options={"step_size": dt})[0][-1]

    def hand(v):
        x = y = v
        for layer in coupling.layers:
            y = y + dt * (F.elu(layer(x, EDGES)) - 1.0 * x - 0.5 * y)
            x = x + dt * y
        return x

    assert_same(values_and_gradients(library, x0, parameters), values_and_gradients(hand, x0, parameters))
    assert bound._graph_args(x0) is bound._graph_args(x0.detach())


def test_an_edited_graph_gets_a_new_attention_pattern():
    torch.manual_seed(0)
    model = GraphCONNodeModel(3, M, 2, coupling="gat", heads=2, num_layers=2).double().eval()
    edges = random_graph(N, 12)
    x = torch.randn(N, 3, dtype=torch.float64)
    with torch.no_grad():
        before = model(x, edges)
        edges.data[0, :2] = edges[0, :2].flip(0)
        after = model(x, edges)
        fresh = model(x, edges.clone())
    assert not torch.allclose(before, after)
    assert torch.equal(after, fresh)
