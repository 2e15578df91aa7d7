"""Graphs the library generates itself, so that examples and tests run offline."""

from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected


def edge_homophily(edge_index: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of edges joining nodes of the same class."""
    return float((y[edge_index[0]] == y[edge_index[1]]).float().mean())


def contextual_sbm(
    num_nodes: int = 1000,
    num_classes: int = 5,
    homophily: float = 0.2,
    average_degree: float = 10.0,
    num_features: int = 32,
    signal: float = 1.0,
    train_per_class: int = 20,
    val_per_class: int = 30,
    seed: int = 0,
) -> Data:
    """A contextual stochastic block model (Deshpande et al., 2018) with a chosen edge homophily.

    Node i gets a class y_i uniformly at random and features x_i = signal · μ_{y_i} + ε_i with class means
    μ_c ~ N(0, I) and noise ε_i ~ N(0, I). Each of the num_nodes·average_degree/2 undirected
    edges joins a uniformly chosen node to a node of the same class with probability ``homophily`` and to a
    node of another class otherwise. Masks: ``train_per_class`` and ``val_per_class`` nodes per class, the rest
    is the test set.
    """
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily: must lie in [0, 1], got {homophily}")
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(num_classes, (num_nodes,), generator=generator)
    members = [torch.nonzero(y == c).flatten() for c in range(num_classes)]
    num_edges = int(num_nodes * average_degree / 2)
    source = torch.randint(num_nodes, (num_edges,), generator=generator)
    same = torch.rand(num_edges, generator=generator) < homophily
    shift = torch.randint(1, num_classes, (num_edges,), generator=generator)
    target_class = torch.where(same, y[source], (y[source] + shift) % num_classes)
    target = torch.empty_like(source)
    for c in range(num_classes):
        chosen = target_class == c
        picks = torch.randint(len(members[c]), (int(chosen.sum()),), generator=generator)
        target[chosen] = members[c][picks]
    keep = source != target
    edge_index = coalesce(to_undirected(torch.stack([source[keep], target[keep]])), num_nodes=num_nodes)

    means = torch.randn(num_classes, num_features, generator=generator)
    x = signal * means[y] + torch.randn(num_nodes, num_features, generator=generator)

    train_mask = torch.zeros(num_nodes, dtype=torch.bool)
    val_mask = torch.zeros(num_nodes, dtype=torch.bool)
    for c in range(num_classes):
        order = members[c][torch.randperm(len(members[c]), generator=generator)]
        train_mask[order[:train_per_class]] = True
        val_mask[order[train_per_class:train_per_class + val_per_class]] = True
    test_mask = ~(train_mask | val_mask)
    return Data(x=x, y=y, edge_index=edge_index, train_mask=train_mask, val_mask=val_mask, test_mask=test_mask)
