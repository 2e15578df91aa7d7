"""Mini-batches of seed nodes with their sampled neighbourhoods, on PyG's own loader machinery.

:func:`neighbor_loader` returns PyG's ``NeighborLoader`` when one of its sampling back-ends (``pyg-lib`` or
``torch-sparse``) imports. Neither has a wheel for every torch release, so otherwise it returns PyG's
``NodeLoader`` driven by :class:`NeighborhoodSampler`, a pure-PyTorch sampler behind PyG's ``BaseSampler``
interface: batches are the same ``Data`` objects (``n_id``, ``e_id``, ``batch_size``, seeds first), and a training
loop cannot tell the two apart.

Sampling (Hamilton et al., 2017, as PyG's ``NeighborSampler`` does it): starting from the seeds, hop h keeps, for
every node reached at hop h − 1, at most ``fanout[h]`` of its incoming edges (source → node), drawn uniformly
without replacement (−1 keeps all); the sources not seen before are the nodes of hop h. The subgraph holds either
the sampled edges (``subgraph="directional"``, PyG's default) or every edge among the sampled nodes
(``subgraph="induced"``). With unlimited fan-out over k hops, the induced subgraph is exactly
``torch_geometric.utils.k_hop_subgraph(seeds, k, edge_index)``.

A hop is a handful of vectorised operations over the frontier's incoming edges (segment offsets from a CSC index
built once, one random key per candidate edge, a stable sort by (node, key)), so a batch costs O(edges touched).
"""

from __future__ import annotations

from typing import Any

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader
from torch_geometric.sampler import BaseSampler, EdgeSamplerInput, NodeSamplerInput, SamplerOutput

SUBGRAPHS = ("directional", "induced")


def has_pyg_sampler() -> bool:
    """Whether PyG's compiled neighbour sampling (``pyg-lib`` or ``torch-sparse``) is importable."""
    return bool(torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE)


def _ranges(starts: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """Concatenated aranges start_i + [0, count_i) and, for each entry, its segment i."""
    segment = torch.repeat_interleave(torch.arange(counts.numel()), counts)
    offsets = torch.cumsum(counts, 0) - counts
    return starts[segment] + torch.arange(segment.numel()) - offsets[segment], segment


class NeighborhoodSampler(BaseSampler):
    """Uniform neighbour sampling without replacement, in pure PyTorch, behind PyG's ``BaseSampler``.

    Args:
        data: the graph (``edge_index`` [2, E] of (source, target) pairs and ``num_nodes``).
        fanout: per hop, the most incoming edges kept per node (−1: all); its length is the number of hops.
        subgraph: "directional" (the sampled edges) or "induced" (every edge among the sampled nodes).
        seed: seed of the sampler's own random generator (None: drawn from torch's global generator).
    """

    def __init__(self, data: Data, fanout: list[int], subgraph: str = "directional", seed: int | None = None):
        check_fanout(fanout)
        check_subgraph(subgraph)
        self.num_nodes = int(data.num_nodes)
        source, target = data.edge_index
        order = torch.argsort(target * self.num_nodes + source)
        self.source = source[order]  # incoming edges grouped by target (CSC)
        self.edge_id = order
        self.pointer = torch.zeros(self.num_nodes + 1, dtype=torch.long)
        self.pointer[1:] = torch.cumsum(torch.bincount(target, minlength=self.num_nodes), 0)
        self.fanout = list(fanout)
        self.subgraph = subgraph
        self.generator = torch.Generator()
        self.generator.manual_seed(int(torch.randint(2**62, ()).item()) if seed is None else seed)

    def _hop(self, frontier: Tensor, fanout: int) -> Tensor:
        """Positions (in the CSC order) of the incoming edges of ``frontier`` kept at this hop."""
        starts = self.pointer[frontier]
        counts = self.pointer[frontier + 1] - starts
        positions, segment = _ranges(starts, counts)
        if fanout < 0 or not bool((counts > fanout).any()):
            return positions
        keys = torch.rand(positions.numel(), generator=self.generator)
        order = torch.argsort(keys)
        order = order[torch.argsort(segment[order], stable=True)]  # grouped by node, random within a node
        rank = torch.arange(order.numel()) - (torch.cumsum(counts, 0) - counts)[segment[order]]
        return positions[order[rank < fanout]]

    def _induced(self, nodes: Tensor, local: Tensor) -> Tensor:
        starts = self.pointer[nodes]
        positions, _ = _ranges(starts, self.pointer[nodes + 1] - starts)
        return positions[local[self.source[positions]] >= 0]

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs: Any) -> SamplerOutput:
        seeds = index.node
        local = torch.full((self.num_nodes,), -1, dtype=torch.long)
        local[seeds] = torch.arange(seeds.numel())
        nodes, frontier = [seeds], seeds
        kept, num_nodes_per_hop, num_edges_per_hop = [], [seeds.numel()], []
        count = seeds.numel()
        for fanout in self.fanout:
            positions = self._hop(frontier, fanout)
            kept.append(positions)
            num_edges_per_hop.append(positions.numel())
            sources = self.source[positions]
            fresh = sources[local[sources] < 0]
            unique, inverse = torch.unique(fresh, return_inverse=True)
            first = torch.full((unique.numel(),), fresh.numel(), dtype=torch.long)
            first.scatter_reduce_(0, inverse, torch.arange(fresh.numel()), reduce="amin")
            frontier = unique[torch.argsort(first)]  # new nodes in order of first appearance
            local[frontier] = torch.arange(count, count + frontier.numel())
            count += frontier.numel()
            nodes.append(frontier)
            num_nodes_per_hop.append(frontier.numel())
        node = torch.cat(nodes)
        positions = self._induced(node, local) if self.subgraph == "induced" else torch.cat(kept)
        targets = torch.searchsorted(self.pointer, positions, right=True) - 1
        return SamplerOutput(
            node=node, row=local[self.source[positions]], col=local[targets], edge=self.edge_id[positions],
            num_sampled_nodes=num_nodes_per_hop,
            num_sampled_edges=None if self.subgraph == "induced" else num_edges_per_hop,
            metadata=(index.input_id, index.time))

    def sample_from_edges(self, index: EdgeSamplerInput, neg_sampling: Any = None) -> SamplerOutput:
        raise NotImplementedError("NeighborhoodSampler samples around seed nodes only (node-level training)")


def check_fanout(fanout: object) -> None:
    """``ValueError`` naming ``fanout`` unless it is a non-empty list of positive integers or −1."""
    if (not isinstance(fanout, (list, tuple)) or not fanout
            or any(isinstance(k, bool) or not isinstance(k, int) or k == 0 or k < -1 for k in fanout)):
        raise ValueError(f"fanout: expected a non-empty list of positive integers or -1, got {fanout!r}")


def check_subgraph(subgraph: object) -> None:
    if subgraph not in SUBGRAPHS:
        raise ValueError(f"subgraph: expected one of {SUBGRAPHS}, got {subgraph!r}")


def check_input_nodes(input_nodes: Tensor | None, num_nodes: int) -> None:
    """``input_nodes``: None (every node), a boolean mask of ``num_nodes`` entries, or integer node indices in
    [0, num_nodes) (one min/max read); ``ValueError`` (``TypeError`` for another kind) naming it otherwise."""
    if input_nodes is None:
        return
    if not isinstance(input_nodes, Tensor) or input_nodes.is_floating_point() or input_nodes.dim() != 1:
        raise TypeError(f"input_nodes: expected a 1-D tensor of node indices or a boolean mask, got "
                        f"{getattr(input_nodes, 'dtype', type(input_nodes).__name__)} "
                        f"of shape {list(getattr(input_nodes, 'shape', []))}")
    if input_nodes.dtype == torch.bool:
        if input_nodes.numel() != num_nodes:
            raise ValueError(f"input_nodes: a boolean mask needs one entry per node ({num_nodes}), "
                             f"got {input_nodes.numel()}")
        return
    if input_nodes.numel():
        low, high = (int(v) for v in torch.aminmax(input_nodes))
        if low < 0 or high >= num_nodes:
            raise ValueError(f"input_nodes: node index {low if low < 0 else high} is out of range for "
                             f"num_nodes={num_nodes}")


def neighbor_loader(data: Data, fanout: list[int], *, input_nodes: Tensor | None = None, batch_size: int = 1024,
                    shuffle: bool = False, subgraph: str = "directional", seed: int | None = None,
                    use_pyg_sampler: bool | None = None, **kwargs: Any) -> NodeLoader:
    """Mini-batches of ``batch_size`` seed nodes (from ``input_nodes``) with their sampled ``fanout`` neighbourhood.

    PyG's ``NeighborLoader`` when its compiled sampler is present (``use_pyg_sampler=None``: detect), else
    ``NodeLoader`` with :class:`NeighborhoodSampler`. In every batch the seeds are the first ``batch.batch_size``
    nodes and ``batch.n_id`` maps batch nodes to graph nodes. Further ``kwargs`` go to the ``DataLoader``.

    Raises:
        ValueError: naming the argument, a ``batch_size`` < 1, a ``fanout`` that is empty or holds 0 or a value
            below −1, ``input_nodes`` out of [0, num_nodes) (or a mask of another length), an unknown ``subgraph``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: must be an integer >= 1, got {batch_size!r}")
    check_fanout(fanout)
    check_subgraph(subgraph)
    check_input_nodes(input_nodes, int(data.num_nodes))
    if use_pyg_sampler is None:
        use_pyg_sampler = has_pyg_sampler()
    if use_pyg_sampler:
        return NeighborLoader(data, num_neighbors=list(fanout), input_nodes=input_nodes, batch_size=batch_size,
                              shuffle=shuffle, subgraph_type=subgraph, **kwargs)
    sampler = NeighborhoodSampler(data, list(fanout), subgraph=subgraph, seed=seed)
    return NodeLoader(data, node_sampler=sampler, input_nodes=input_nodes, batch_size=batch_size, shuffle=shuffle,
                      **kwargs)
