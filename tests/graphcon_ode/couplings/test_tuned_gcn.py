import math

import pytest
import torch

from graphcon_ode.couplings import TunedGCN, make_coupling
from graphcon_ode.field import GraphCONField
from graphcon_ode.models import GraphCONNodeModel

# 5 nodes, undirected edges 0–1, 0–2, 1–3; node 4 isolated.
EDGES = torch.tensor([[0, 1, 0, 2, 1, 3], [1, 0, 2, 0, 3, 1]])
N, M = 5, 3


def normalised_adjacency_loop():
    """S = D̂^{−1/2} (A + I) D̂^{−1/2}, written out entry by entry."""
    a = torch.eye(N, dtype=torch.float64)
    for s, t in EDGES.t().tolist():
        a[t, s] = 1.0
    degree = a.sum(1)
    return torch.tensor([[a[i, j] / math.sqrt(degree[i] * degree[j]) for j in range(N)] for i in range(N)],
                        dtype=torch.float64)


def batch_norm_loop(v, norm):
    """Training-mode BatchNorm: every column standardised by its mean and biased variance over the nodes."""
    mean = v.mean(0)
    var = ((v - mean) ** 2).mean(0)
    return (v - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def randomise(module, seed=3):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


def features(seed=0):
    return torch.randn(N, M, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def force_loop(layer, x, s):
    out = s @ x @ layer.lin.weight.T + layer.lin.bias
    if layer.residual is not None:
        out = out + x @ layer.residual.weight.T + layer.residual.bias
    return out


@pytest.mark.parametrize("residual", [True, False])
def test_force_is_batch_norm_of_gcn_plus_linear_residual(residual):
    coupling = TunedGCN(M, residual=residual).double()
    randomise(coupling)
    x = features()
    layer = coupling.layers[0]
    expected = batch_norm_loop(force_loop(layer, x, normalised_adjacency_loop()), layer.norm)
    bound = GraphCONField(coupling).bind(EDGES)
    torch.testing.assert_close(coupling(x, bound._graph_args(x)), expected, rtol=1e-12, atol=1e-12)


def test_layer_and_no_normalisation():
    x, s = features(), normalised_adjacency_loop()
    for kind in ("layer", "none"):
        coupling = TunedGCN(M, normalisation=kind).double()
        randomise(coupling)
        layer = coupling.layers[0]
        raw = force_loop(layer, x, s)
        if kind == "layer":
            mean = raw.mean(1, keepdim=True)
            var = ((raw - mean) ** 2).mean(1, keepdim=True)
            raw = (raw - mean) / torch.sqrt(var + layer.norm.eps) * layer.norm.weight + layer.norm.bias
        bound = GraphCONField(coupling).bind(EDGES)
        torch.testing.assert_close(coupling(x, bound._graph_args(x)), raw, rtol=1e-12, atol=1e-12)


def test_unknown_normalisation_is_named():
    with pytest.raises(ValueError, match="normalisation: unknown 'group'"):
        TunedGCN(M, normalisation="group")


def test_graphcon_at_unit_coefficients_is_the_tuned_gcn_stack():
    """α = γ = Δt = 1 with one layer per step: X^{n+1} = ReLU(F_n(X^n)) (module docstring), GCN*'s layers."""
    torch.manual_seed(0)
    model = GraphCONNodeModel(4, M, 2, coupling="gcn-tuned", num_layers=3, step_size=1.0, alpha=1.0, gamma=1.0,
                              per_step_weights=True, encoder_activation=None).double()
    randomise(model)
    x = torch.randn(N, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    s = normalised_adjacency_loop()
    h = x @ model.encoder.weight.T + model.encoder.bias
    for layer in model.field.coupling.layers:
        h = torch.relu(batch_norm_loop(force_loop(layer, h, s), layer.norm))
    torch.testing.assert_close(model.hidden(x, EDGES), h, rtol=1e-10, atol=1e-10)


def test_made_by_name_with_per_step_layers():
    coupling = make_coupling("gcn-tuned", M, num_steps=4, step_size=0.5, options={"normalisation": "layer"})
    assert coupling.per_step and len(coupling.layers) == 4
    assert isinstance(coupling.layers[2].norm, torch.nn.LayerNorm)
