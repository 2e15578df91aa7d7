import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv, GINConv, ResGatedGraphConv, SAGEConv

from graphcon_ode import GraphCONField, odeint
from graphcon_ode.couplings import GCN, Coupling, from_pyg
from tests.graphs import random_graph


@pytest.mark.parametrize("t, layer", [(0.0, 0), (0.1, 1), (0.35, 3), (0.3 - 1e-12, 3), (0.9999, 9), (5.0, 9)])
def test_per_step_layer_is_floor_t_over_dt(t, layer):
    coupling = GCN(2, num_steps=10, step_size=0.1)
    assert coupling.layer_at(torch.tensor(t)) is coupling.layers[layer]


def test_per_step_layers_are_independent():
    coupling = from_pyg(SAGEConv(4, 4), num_steps=3, step_size=1.0)
    weights = [layer.lin_l.weight for layer in coupling.layers]
    assert len({w.data_ptr() for w in weights}) == 3
    assert not torch.equal(weights[0], weights[1])


@pytest.mark.parametrize("conv", [
    SAGEConv(6, 6),
    GINConv(torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.ReLU(), torch.nn.Linear(6, 6))),
    GCNConv(6, 6),
], ids=["sage", "gin", "gcnconv"])
def test_any_message_passing_layer_drives_the_field(conv):
    torch.manual_seed(0)
    edge_index = random_graph(15, 30)
    x0 = torch.randn(15, 6)
    for coupling in (from_pyg(conv), conv):
        field = GraphCONField(coupling, alpha=0.5, gamma=1.0)
        assert isinstance(field.coupling, Coupling)
        xs, _ = odeint(field.bind(edge_index), (x0, x0), torch.tensor([0.0, 1.0]), options={"step_size": 0.2})
        xs[-1].sum().backward()
        assert all(p.grad is not None for p in field.parameters())


def test_from_pyg_rejects_non_message_passing():
    with pytest.raises(TypeError, match="conv"):
        from_pyg(torch.nn.Linear(3, 3))


def test_per_step_needs_step_size():
    with pytest.raises(ValueError, match="step_size"):
        GCN(3, num_steps=4)


def test_extra_graph_tensors_reach_the_layer():
    from torch_geometric.nn import GINEConv

    torch.manual_seed(0)
    edge_index = random_graph(10, 20)
    edge_attr = torch.randn(edge_index.shape[1], 4)
    conv = GINEConv(torch.nn.Linear(4, 4), edge_dim=4)
    field = GraphCONField(conv)
    x0 = torch.randn(10, 4)
    t = torch.tensor([0.0, 0.5])
    with_attr, _ = odeint(field.bind(edge_index, edge_attr=edge_attr), (x0, x0), t, options={"step_size": 0.1})
    other, _ = odeint(field.bind(edge_index, edge_attr=edge_attr + 1), (x0, x0), t, options={"step_size": 0.1})
    assert (with_attr[-1] - other[-1]).abs().max() > 1e-4


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
