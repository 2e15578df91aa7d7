import torch

from graphcon_ode.couplings import SAGE
from tests.graphcon_ode.couplings.small_graph import M, N, linear, neighbours, tiny_graph


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
