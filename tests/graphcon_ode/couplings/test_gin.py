import torch

from graphcon_ode.couplings import GIN
from tests.graphcon_ode.couplings.small_graph import M, N, linear, neighbours, tiny_graph


def test_gin_is_mlp_of_self_plus_neighbour_sum():
    edge_index, x = tiny_graph()
    coupling = GIN(M, eps=0.25).double()
    first, _, second = coupling.layers[0].nn
    out = coupling(x, coupling.prepare(edge_index, N))
    for i in range(N):
        h = 1.25 * x[i] + sum((x[j] for j in neighbours(edge_index, i)), torch.zeros(M, dtype=torch.float64))
        assert torch.allclose(out[i], linear(second, torch.relu(linear(first, h))), rtol=0, atol=1e-13)
