import pytest
import torch

from graphcon_ode import GraphCONField
from graphcon_ode.couplings import GatedGCN
from tests.graphcon_ode.couplings.small_graph import M, N, linear, tiny_graph


def gated_reference(layer, x, edge_index, edge_features=None):
    """W_s X_i + Σ_j sigmoid(k_ij + q_ij) ⊙ v_ij + b, edge features concatenated to X_i and X_j when given."""
    out = []
    for i in range(N):
        total = linear(layer.lin_skip, x[i]) + layer.bias
        for e in (edge_index[1] == i).nonzero().flatten().tolist():
            j = int(edge_index[0, e])
            xi, xj = (x[i], x[j]) if edge_features is None else (torch.cat([x[i], edge_features[e]]),
                                                                  torch.cat([x[j], edge_features[e]]))
            gate = torch.sigmoid(linear(layer.lin_key, xi) + linear(layer.lin_query, xj))
            total = total + gate * linear(layer.lin_value, xj)
        out.append(total)
    return torch.stack(out)


def test_gated_gcn_without_edge_features():
    edge_index, x = tiny_graph()
    coupling = GatedGCN(M).double()
    out = coupling(x, coupling.prepare(edge_index, N))
    assert torch.allclose(out, gated_reference(coupling.layers[0], x, edge_index), rtol=0, atol=1e-13)


def test_gated_gcn_with_float_edge_features_bound_through_the_field():
    edge_index, x = tiny_graph()
    edge_attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    field = GraphCONField(GatedGCN(M, edge_dim=2), activation=lambda v: v).double()
    force = field.bind(edge_index, edge_attr=edge_attr).force(torch.tensor(0.0), x)
    assert torch.allclose(force, gated_reference(field.coupling.layers[0], x, edge_index, edge_attr),
                          rtol=0, atol=1e-13)


def test_gated_gcn_embeds_integer_bond_types():
    edge_index, x = tiny_graph()
    types = torch.arange(edge_index.shape[1]) % 3
    coupling = GatedGCN(M, edge_dim=2, edge_vocabulary=3).double()
    out = coupling(x, coupling.prepare(edge_index, N, edge_attr=types))
    table = coupling.edge_embedding.weight
    assert torch.allclose(out, gated_reference(coupling.layers[0], x, edge_index, table[types]), rtol=0, atol=1e-13)


def test_gated_gcn_checks_its_edge_features():
    edge_index, _ = tiny_graph()
    with pytest.raises(ValueError, match="edge_attr"):
        GatedGCN(M, edge_dim=2).prepare(edge_index, N)
    with pytest.raises(ValueError, match="edge_attr"):
        GatedGCN(M, edge_dim=2).prepare(edge_index, N, edge_attr=torch.randn(edge_index.shape[1], 3))
    with pytest.raises(ValueError, match="edge_attr"):
        GatedGCN(M, edge_dim=2, edge_vocabulary=3).prepare(edge_index, N, edge_attr=torch.randn(3, 2))
    with pytest.raises(ValueError, match="edge_vocabulary"):
        GatedGCN(M, edge_vocabulary=3)
