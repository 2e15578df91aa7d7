import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GINConv, ResGatedGraphConv, SAGEConv

from graphcon_ode import GraphCONField, from_pyg, odeint
from graphcon_ode.couplings.graph_layers import GIN, SAGE, GatedGCN
from graphcon_ode.models import make_coupling
from tests.graphs import random_graph

N, M = 7, 3


def tiny_graph():
    torch.manual_seed(0)
    edge_index = random_graph(N, 10)
    return edge_index, torch.randn(N, M, dtype=torch.float64)


def neighbours(edge_index, i):
    """The sources j of the edges j → i."""
    return edge_index[0, edge_index[1] == i].tolist()


def linear(layer, v):
    return v @ layer.weight.T + (0 if layer.bias is None else layer.bias)


def test_gin_is_mlp_of_self_plus_neighbour_sum():
    edge_index, x = tiny_graph()
    coupling = GIN(M, eps=0.25).double()
    first, _, second = coupling.layers[0].nn
    out = coupling(x, coupling.prepare(edge_index, N))
    for i in range(N):
        h = 1.25 * x[i] + sum((x[j] for j in neighbours(edge_index, i)), torch.zeros(M, dtype=torch.float64))
        assert torch.allclose(out[i], linear(second, torch.relu(linear(first, h))), rtol=0, atol=1e-13)


def test_sage_is_root_weight_plus_neighbour_mean():
    edge_index, x = tiny_graph()
    edge_index = edge_index[:, edge_index[1] != 0]  # node 0 has no in-neighbours
    coupling = SAGE(M).double()
    layer = coupling.layers[0]
    out = coupling(x, coupling.prepare(edge_index, N))
    for i in range(N):
        js = neighbours(edge_index, i)
        mean = torch.stack([x[j] for j in js]).mean(0) if js else torch.zeros(M, dtype=torch.float64)
        assert torch.allclose(out[i], linear(layer.lin_r, x[i]) + linear(layer.lin_l, mean), rtol=0, atol=1e-13)


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


@pytest.mark.parametrize("name, cls", [("gin", GIN), ("gatedgcn", GatedGCN), ("sage", SAGE)])
def test_couplings_by_name_with_shared_or_per_step_weights(name, cls):
    shared = make_coupling(name, M)
    per_step = make_coupling(name, M, num_steps=3, step_size=0.5)
    assert type(shared) is cls and not shared.per_step
    assert type(per_step) is cls and len(per_step.layers) == 3
    assert per_step.layer_at(1.2) is per_step.layers[2]
    first, second = (torch.cat([p.flatten() for p in layer.parameters()]) for layer in per_step.layers[:2])
    assert not torch.equal(first, second)


def batch_of_graphs(edge_dim):
    g = torch.Generator().manual_seed(3)
    graphs = []
    for n in (5, 8, 6):
        edge_index = random_graph(n, 2 * n, seed=n)
        graphs.append(Data(x=torch.randn(n, 4, generator=g, dtype=torch.float64), edge_index=edge_index,
                           edge_attr=torch.randn(edge_index.shape[1], edge_dim, generator=g, dtype=torch.float64)))
    return graphs, next(iter(DataLoader(graphs, batch_size=3)))


@pytest.mark.parametrize("conv, uses_edges", [
    (lambda: GINConv(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4))), False),
    (lambda: SAGEConv(4, 4), False),
    (lambda: ResGatedGraphConv(4, 4, edge_dim=2), True),
], ids=["gin", "sage", "gatedgcn-edges"])
@pytest.mark.parametrize("num_steps", [None, 3])
def test_from_pyg_solves_a_batch_graph_by_graph(conv, uses_edges, num_steps):
    torch.manual_seed(0)
    coupling = from_pyg(conv(), num_steps=num_steps, step_size=0.5)
    field = GraphCONField(coupling, alpha=0.5, gamma=1.0).double()
    graphs, batch = batch_of_graphs(edge_dim=2)
    t = torch.tensor([0.0, 1.5], dtype=torch.float64)

    def solve(data):
        graph = {"edge_attr": data.edge_attr} if uses_edges else {}
        return odeint(field.bind(data.edge_index, **graph), (data.x, data.x), t,
                      options={"step_size": 0.5})[0][-1]

    together = solve(batch)
    together.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in field.parameters())
    assert torch.allclose(together[batch.batch == 1], solve(graphs[1]), rtol=0, atol=1e-12)
