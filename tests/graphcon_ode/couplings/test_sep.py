import math

import pytest
import torch
from torch_geometric.utils import remove_self_loops

from graphcon_ode.couplings import Coupling, SepAttention, SepMean, make_coupling
from graphcon_ode.field import GraphCONField
from graphcon_ode.models import GraphCONNodeModel

# 5 nodes: node 0 has in-neighbours 1, 2, 3; node 4 none; a self-loop on 2 that the couplings must ignore.
EDGES = torch.tensor([[1, 2, 3, 0, 3, 2, 1], [0, 0, 0, 1, 2, 2, 3]])
N, M = 5, 4


def in_neighbours(i):
    return [int(s) for s, t in EDGES.t() if int(t) == i and int(s) != i]


def layer_norm_loop(x, norm):
    rows = []
    for row in x.tolist():
        mean = sum(row) / len(row)
        var = sum((v - mean) ** 2 for v in row) / len(row)
        rows.append([(v - mean) / math.sqrt(var + norm.eps) * w + b
                     for v, w, b in zip(row, norm.weight.tolist(), norm.bias.tolist())])
    return torch.tensor(rows, dtype=torch.float64)


def randomise(module):
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


@pytest.mark.parametrize("norm", [False, True])
def test_sep_mean_is_ego_plus_neighbour_mean_with_separate_weights(norm):
    coupling = SepMean(M, norm=norm).double()
    randomise(coupling)
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    layer = coupling.layers[0]
    xt = layer_norm_loop(x, layer.norm) if norm else x
    w1, b, w2 = layer.ego.weight, layer.ego.bias, layer.neighbours.weight
    expected = torch.zeros(N, M, dtype=torch.float64)
    for i in range(N):
        expected[i] = w1 @ xt[i] + b
        neighbours = in_neighbours(i)
        for j in neighbours:
            expected[i] += w2 @ xt[j] / len(neighbours)
    f = GraphCONField(coupling).bind(EDGES)
    got = coupling(x, f._graph_args(x))
    assert torch.allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("norm", [False, True])
def test_sep_attention_is_ego_plus_gat_attention_over_the_neighbours(norm):
    heads = 2
    coupling = SepAttention(M, heads=heads, norm=norm).double()
    randomise(coupling)
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    layer = coupling.layers[0]
    xt = layer_norm_loop(x, layer.norm) if norm else x
    gat = layer.neighbours
    w2 = gat.lin.weight.view(heads, M, M)  # head h maps X_j to W2^h X_j
    a_src, a_dst = gat.att_src[0], gat.att_dst[0]
    with torch.no_grad():
        expected = attention_loop(layer, xt, heads, w2, a_src, a_dst)
    f = GraphCONField(coupling).bind(EDGES)
    got = coupling(x, f._graph_args(x))
    assert torch.allclose(got, expected, atol=1e-12)


def attention_loop(layer, xt, heads, w2, a_src, a_dst):
    expected = torch.zeros(N, M, dtype=torch.float64)
    for i in range(N):
        expected[i] = layer.ego.weight @ xt[i] + layer.ego.bias
        neighbours = in_neighbours(i)
        for h in range(heads):
            raw = []
            for j in neighbours:
                e = a_src[h] @ (w2[h] @ xt[j]) + a_dst[h] @ (w2[h] @ xt[i])
                raw.append(float(e) if e > 0 else 0.2 * float(e))
            weights = [math.exp(r) / sum(math.exp(q) for q in raw) for r in raw]
            for weight, j in zip(weights, neighbours):
                expected[i] += weight * (w2[h] @ xt[j]) / heads
    return expected


@pytest.mark.parametrize("kind, cls", [("sep-mean", SepMean), ("sep-gat", SepAttention)])
def test_registered_with_the_common_constructor_shape(kind, cls):
    coupling = make_coupling(kind, 8, heads=2, num_steps=3, step_size=0.5, options={"norm": True})
    assert isinstance(coupling, cls) and isinstance(coupling, Coupling)
    assert coupling.per_step and len(coupling.layers) == 3 and coupling.channels == 8
    assert all(layer.norm is not None for layer in coupling.layers)
    with pytest.raises(TypeError):
        cls(8, bogus=1)
    model = GraphCONNodeModel(3, 8, 1, coupling=kind, num_layers=2, heads=2, coupling_options={"norm": True})
    out = model(torch.randn(N, 3), EDGES)
    assert out.shape == (N, 1) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.field.coupling.parameters())


@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("edges", [EDGES, torch.cat([EDGES, EDGES[:, :2]], dim=1)], ids=["simple", "repeated-edges"])
def test_sep_attention_equals_pyg_gatconv_values_and_gradients(norm, edges):
    coupling = SepAttention(M, heads=3, norm=norm).double()
    randomise(coupling)
    layer = coupling.layers[0]
    x = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    neighbours = remove_self_loops(edges)[0]

    def pyg(v):
        v = layer.norm(v) if norm else v
        return layer.ego(v) + layer.neighbours(v, neighbours)

    parameters = list(coupling.parameters())
    weights = torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    graph = GraphCONField(coupling).bind(edges)._graph_args(x)
    got = [coupling(x, graph), pyg(x)]
    grads = [torch.autograd.grad((out * weights).sum(), [x, *parameters]) for out in got]
    assert torch.allclose(got[0], got[1], rtol=0, atol=1e-12)
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)
