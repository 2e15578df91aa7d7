import pytest
import torch
from torch_geometric.nn import GCNConv, GINConv, SAGEConv

from graphcon_ode import GAT, GCN, GraphCONField, from_pyg, odeint
from graphcon_ode.couplings import Coupling
from tests.graphs import gat_dense, gcn_operator, random_graph


def test_gcn_is_eq5_with_self_loops_and_symmetric_normalisation():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GCN(3).double()
    x = torch.randn(9, 3, dtype=torch.float64)
    layer = coupling.layers[0]
    expected = gcn_operator(edge_index, 9) @ x @ layer.lin.weight.T + layer.bias
    out = coupling(x, coupling.prepare(edge_index, 9))
    assert torch.allclose(out, expected, rtol=0, atol=1e-13)


def test_gat_matches_dense_attention():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GAT(4, heads=3).double()
    x = torch.randn(9, 4, dtype=torch.float64)
    layer = coupling.layers[0]
    expected = gat_dense(x, edge_index, layer.lin.weight, layer.att_src, layer.att_dst, layer.bias, 3)
    out = coupling(x, coupling.prepare(edge_index, 9))
    assert torch.allclose(out, expected, rtol=0, atol=1e-12)


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
