import torch

from graphcon_ode.couplings import GCN
from tests.graphs import gcn_operator, random_graph


def test_gcn_is_eq5_with_self_loops_and_symmetric_normalisation():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GCN(3).double()
    x = torch.randn(9, 3, dtype=torch.float64)
    layer = coupling.layers[0]
    expected = gcn_operator(edge_index, 9) @ x @ layer.lin.weight.T + layer.bias
    out = coupling(x, coupling.prepare(edge_index, 9))
    assert torch.allclose(out, expected, rtol=0, atol=1e-13)
