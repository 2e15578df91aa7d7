"""A field bound to PyG's extension-free sparse inputs (EdgeIndex, torch.sparse adj_t) equals the edge-list field."""

import pytest
import torch
from torch_geometric import EdgeIndex
from torch_geometric.nn import SAGEConv
from torch_geometric.utils import to_torch_coo_tensor, to_torch_csr_tensor

from graphcon_ode import GAT, GCN, GraphCONField, GraphCONNodeModel
from graphcon_ode.datasets import degree_corrected_sbm

EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 0, 4, 3, 4],
                           [1, 0, 2, 1, 3, 2, 4, 0, 4, 3]])


def inputs(edge_index: torch.Tensor, num_nodes: int) -> dict[str, object]:
    adj_t = edge_index.flip(0)  # rows are targets, as PyG's layers read a sparse adjacency
    return {
        "EdgeIndex": EdgeIndex(edge_index, sparse_size=(num_nodes, num_nodes)),
        "csr": to_torch_csr_tensor(adj_t, size=(num_nodes, num_nodes)),
        "coo": to_torch_coo_tensor(adj_t, size=(num_nodes, num_nodes)),
    }


@pytest.mark.parametrize("make", [lambda: GCN(3), lambda: GAT(3, heads=2), lambda: SAGEConv(3, 3)],
                         ids=["gcn", "gat", "pyg-sage"])
@pytest.mark.parametrize("kind", ["EdgeIndex", "csr", "coo"])
def test_sparse_inputs_give_the_edge_list_force(make, kind):
    torch.manual_seed(0)
    field = GraphCONField(make()).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    t = torch.zeros(())
    expected = field.bind(EDGE_INDEX).force(t, x)
    assert torch.allclose(field.bind(inputs(EDGE_INDEX, 5)[kind]).force(t, x), expected, atol=1e-12)


def test_weighted_csr_adjacency_is_the_weighted_gcn_operator():
    """F(X) = D̂^{-1/2}(A + I)D̂^{-1/2} X W + b with weighted degrees, written out densely."""
    torch.manual_seed(1)
    weight = torch.rand(EDGE_INDEX.shape[1], dtype=torch.float64) + 0.5
    adj_t = to_torch_csr_tensor(EDGE_INDEX.flip(0), weight, size=(5, 5))
    field = GraphCONField(GCN(3)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    dense = torch.zeros(5, 5, dtype=torch.float64)
    dense[EDGE_INDEX[1], EDGE_INDEX[0]] = weight  # dense[target, source]
    dense += torch.eye(5, dtype=torch.float64)
    scale = dense.sum(1).rsqrt()
    operator = scale[:, None] * dense * scale[None, :]
    layer = field.coupling.layers[0]
    expected = torch.relu(operator @ (x @ layer.lin.weight.T) + layer.bias)
    assert torch.allclose(field.bind(adj_t).force(torch.zeros(()), x), expected, atol=1e-12)


def test_sparse_inputs_fill_in_the_node_count():
    field = GraphCONField(GCN(2))
    assert field.bind(inputs(EDGE_INDEX, 7)["csr"]).num_nodes == 7
    assert field.bind(inputs(EDGE_INDEX, 7)["EdgeIndex"]).num_nodes == 7
    with pytest.raises(ValueError, match="num_nodes"):
        field.bind(inputs(EDGE_INDEX, 5)["csr"], num_nodes=6)
    with pytest.raises(ValueError, match="edge_index"):
        field.bind(torch.sparse_coo_tensor(EDGE_INDEX, torch.ones(10), (5, 6)))


def test_model_trains_on_a_csr_adjacency_and_keeps_its_binding():
    data = degree_corrected_sbm(300, num_classes=3, average_degree=6, seed=0)
    adj_t = to_torch_csr_tensor(data.edge_index.flip(0), size=(300, 300))
    torch.manual_seed(0)
    model = GraphCONNodeModel(32, 8, 3, num_layers=3, step_size=0.5).double()
    x = data.x.double()
    out_csr = model(x, adj_t)
    bound = model.bound_field(adj_t, x)
    out_csr.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x, data.edge_index).sum().backward()
    assert torch.allclose(out_csr, model(x, data.edge_index), atol=1e-12)
    assert all(torch.allclose(g, p.grad, atol=1e-12) for g, p in zip(grads, model.parameters()))
    assert model.bound_field(adj_t, x) is not bound  # another graph input was bound in between
    assert model.bound_field(adj_t, x) is model.bound_field(adj_t, x)
