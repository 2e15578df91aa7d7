import math

import pytest
import torch
import torch.nn.functional as F

from graphcon_ode.models.residual import BLOCKS, HeterophilyBaseline

EDGES = torch.tensor([[1, 2, 3, 0, 3, 2, 4], [0, 0, 0, 1, 2, 2, 3]])  # a self-loop on 2; node 4 has no in-edge
N = 5


def silence_feed_forward(model):
    """Zero the last linear map of every block's feed-forward part, so FF(·) = 0."""
    with torch.no_grad():
        for block in model.blocks:
            last = block.feed_forward.net[-2]
            last.weight.zero_()
            last.bias.zero_()


@pytest.mark.parametrize("block", BLOCKS)
def test_shapes_and_every_block_is_residual(block):
    torch.manual_seed(0)
    model = HeterophilyBaseline(3, 8, 1, block=block, num_layers=3, heads=2, dropout=0.2).eval()
    x = torch.randn(N, 3)
    assert model(x, EDGES).shape == (N, 1)
    assert model.hidden(x, EDGES).shape == (N, 8)
    silence_feed_forward(model)
    assert torch.allclose(model.hidden(x, EDGES), F.gelu(model.encoder(x)))
    expected = model.decoder(F.layer_norm(F.gelu(model.encoder(x)), (8,), model.output_norm.weight,
                                          model.output_norm.bias))
    assert torch.allclose(model(x, EDGES), expected)


@pytest.mark.parametrize("block, uses_graph", [("resnet", False), ("gcn", True), ("sage", True), ("gat", True),
                                               ("gat-sep", True)])
def test_only_the_graph_blocks_read_the_edges(block, uses_graph):
    torch.manual_seed(0)
    model = HeterophilyBaseline(3, 8, 2, block=block, num_layers=2, heads=2).eval()
    x = torch.randn(N, 3)
    other = torch.tensor([[0, 4], [4, 0]])
    assert torch.allclose(model(x, EDGES), model(x, other)) is not uses_graph


def test_gcn_and_sage_mix_as_written():
    z = torch.randn(N, 4, dtype=torch.float64)
    undirected = torch.cat([EDGES, EDGES.flip(0)], dim=1).unique(dim=1)  # the datasets' graphs are undirected
    edges = [(int(s), int(t)) for s, t in undirected.t() if int(s) != int(t)]
    degree = [sum(1 for _, t in edges if t == i) for i in range(N)]
    gcn_expected = torch.zeros(N, 4, dtype=torch.float64)
    mean_expected = torch.zeros(N, 4, dtype=torch.float64)
    for s, t in edges:
        gcn_expected[t] += z[s] / math.sqrt(degree[s] * degree[t])
        mean_expected[t] += z[s] / degree[t]
    for block, expected in (("gcn", gcn_expected), ("sage", torch.cat([z, mean_expected], -1))):
        model = HeterophilyBaseline(3, 4, 1, block=block).double()
        graph = model.graph(undirected, z)
        assert torch.allclose(model.blocks[0].mix(z, graph), expected, atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="block"):
        HeterophilyBaseline(3, 8, 1, block="gin")
    with pytest.raises(ValueError, match="heads"):
        HeterophilyBaseline(3, 8, 1, block="gat", heads=3)
    with pytest.raises(ValueError, match="num_layers"):
        HeterophilyBaseline(3, 8, 1, num_layers=-1)
