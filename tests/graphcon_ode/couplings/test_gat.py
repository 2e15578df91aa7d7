import torch

from graphcon_ode.couplings import GAT
from tests.graphs import gat_dense, random_graph


def test_gat_matches_dense_attention():
    torch.manual_seed(0)
    edge_index = random_graph(9, 15)
    coupling = GAT(4, heads=3).double()
    x = torch.randn(9, 4, dtype=torch.float64)
    layer = coupling.layers[0]
    expected = gat_dense(x, edge_index, layer.lin.weight, layer.att_src, layer.att_dst, layer.bias, 3)
    out = coupling(x, coupling.prepare(edge_index, 9))
    assert torch.allclose(out, expected, rtol=0, atol=1e-12)
