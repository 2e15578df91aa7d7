"""A small graph and loop-written layer pieces shared by the tests of the GIN, SAGE and gated GCN couplings."""

import torch

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
