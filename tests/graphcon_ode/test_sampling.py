"""The pure-PyTorch neighbour sampler behind PyG's NodeLoader: exact neighbourhoods and fan-out statistics."""

import pytest
import torch
from torch_geometric.loader import NodeLoader
from torch_geometric.utils import k_hop_subgraph

from graphcon_ode.datasets import degree_corrected_sbm
from graphcon_ode.sampling import NeighborhoodSampler, neighbor_loader


@pytest.fixture(scope="module")
def graph():
    data = degree_corrected_sbm(3000, num_classes=4, average_degree=6, seed=5)
    data.edge_attr = torch.arange(data.num_edges, dtype=torch.float)  # edge ids, to check e_id bookkeeping
    return data


def edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.t().tolist()))


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_unlimited_fanout_induced_subgraph_is_k_hop_subgraph(graph, hops):
    seeds = torch.tensor([7, 100, 2500, 42])
    loader = neighbor_loader(graph, [-1] * hops, input_nodes=seeds, batch_size=4, subgraph="induced",
                             use_pyg_sampler=False)
    assert isinstance(loader, NodeLoader)
    batch = next(iter(loader))
    subset, edge_index, _, edge_mask = k_hop_subgraph(seeds, hops, graph.edge_index, num_nodes=graph.num_nodes)
    assert torch.equal(batch.n_id[:4], seeds) and batch.batch_size == 4
    assert torch.equal(batch.n_id.sort().values, subset)
    assert edge_set(batch.n_id[batch.edge_index]) == edge_set(graph.edge_index[:, edge_mask])
    assert torch.equal(batch.e_id.sort().values, edge_mask.nonzero().flatten())
    assert torch.equal(batch.edge_attr, batch.e_id.float())
    assert torch.equal(batch.x, graph.x[batch.n_id]) and torch.equal(batch.y, graph.y[batch.n_id])


def test_unlimited_directional_subgraph_holds_the_edges_into_inner_hops(graph):
    seeds = torch.tensor([3, 900])
    batch = next(iter(neighbor_loader(graph, [-1, -1], input_nodes=seeds, batch_size=2, use_pyg_sampler=False)))
    inner, _, _, _ = k_hop_subgraph(seeds, 1, graph.edge_index, num_nodes=graph.num_nodes)
    source, target = graph.edge_index
    expected = graph.edge_index[:, torch.isin(target, inner)]
    assert edge_set(batch.n_id[batch.edge_index]) == edge_set(expected)
    hop_sizes = batch.num_sampled_nodes
    assert hop_sizes[0] == 2 and sum(hop_sizes) == batch.num_nodes
    assert sum(batch.num_sampled_edges) == batch.num_edges


def test_fanout_keeps_min_degree_and_fanout_distinct_uniform_neighbours(graph):
    fanout = 5
    sampler = NeighborhoodSampler(graph, [fanout], seed=0)
    seeds = torch.arange(graph.num_nodes)
    in_degree = torch.bincount(graph.edge_index[1], minlength=graph.num_nodes)
    counts = torch.zeros(graph.num_edges)
    draws = 40
    loader = NodeLoader(graph, node_sampler=sampler, input_nodes=seeds, batch_size=graph.num_nodes)
    for _ in range(draws):
        batch = next(iter(loader))
        kept = torch.bincount(batch.n_id[batch.edge_index[1]], minlength=graph.num_nodes)
        assert torch.equal(kept, in_degree.clamp(max=fanout))
        assert batch.e_id.unique().numel() == batch.e_id.numel()  # without replacement
        counts[batch.e_id] += 1
    # Each incoming edge of node v is kept with probability min(1, fanout / deg(v)).
    probability = (fanout / in_degree[graph.edge_index[1]].float()).clamp(max=1)
    busy = in_degree[graph.edge_index[1]] > 3 * fanout
    observed, expected = counts[busy].sum(), (draws * probability[busy]).sum()
    assert float(observed) == pytest.approx(float(expected), rel=0.01)
    hubs = in_degree[graph.edge_index[1]] >= 50
    per_edge = counts[hubs] / draws
    assert float((per_edge - probability[hubs]).abs().mean()) < 0.05


def test_sampler_is_reproducible_from_its_seed(graph):
    seeds = torch.arange(50)
    first = [b.e_id for b in neighbor_loader(graph, [3, 2], input_nodes=seeds, batch_size=10, seed=1,
                                             use_pyg_sampler=False)]
    again = [b.e_id for b in neighbor_loader(graph, [3, 2], input_nodes=seeds, batch_size=10, seed=1,
                                             use_pyg_sampler=False)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))


@pytest.mark.parametrize("fanout", [[], [0], [-2], [2.5]])
def test_invalid_fanout_is_named(graph, fanout):
    with pytest.raises(ValueError, match="fanout"):
        NeighborhoodSampler(graph, fanout)


@pytest.mark.parametrize("arguments, name", [
    ({"fanout": []}, "fanout"), ({"fanout": [3, 0]}, "fanout"), ({"fanout": [-2]}, "fanout"),
    ({"fanout": [2], "batch_size": 0}, "batch_size"),
    ({"fanout": [2], "input_nodes": torch.tensor([0, 3000])}, "input_nodes: node index 3000 is out of range"),
    ({"fanout": [2], "input_nodes": torch.tensor([-1, 5])}, "input_nodes: node index -1 is out of range"),
    ({"fanout": [2], "input_nodes": torch.zeros(10, dtype=torch.bool)}, "input_nodes: a boolean mask"),
    ({"fanout": [2], "subgraph": "full"}, "subgraph"),
])
@pytest.mark.parametrize("use_pyg_sampler", [False, True])
def test_loader_arguments_are_checked_when_it_is_made(graph, arguments, name, use_pyg_sampler):
    """Either back-end: the loader refuses its arguments when it is made, naming them, not at the first batch."""
    with pytest.raises(ValueError, match=name):
        neighbor_loader(graph, use_pyg_sampler=use_pyg_sampler, **arguments)
