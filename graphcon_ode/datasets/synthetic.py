"""Graphs the library generates itself, so that examples and tests run offline: a contextual stochastic block model
(:func:`contextual_sbm`) and, for large graphs, a degree-corrected stochastic block model with power-law degrees
(:func:`degree_corrected_sbm`).

The degree-corrected generator draws every edge independently and in bulk (no loop over nodes or classes), so a
graph of 10⁶ nodes and 10⁷ directed edges takes 18 s on one core (``benchmarks/generate_graph.py``):

1. Each node gets a class y_i uniformly from C classes and a degree propensity θ_i from a Pareto law with
   density ∝ θ^{−a} on [1, ∞) (``exponent`` a > 2, so E[θ] = (a − 1)/(a − 2) is finite), capped at
   ``max_propensity``; ``exponent=None`` gives θ_i = 1 (an ordinary SBM).
2. Each of the m = n·d/2 undirected edges (d the average degree) picks its first end i with probability
   θ_i / Σθ. With probability h (``homophily``) its other end is drawn from i's class, otherwise from one of the
   other C − 1 classes chosen uniformly, in both cases with probability ∝ θ within the class.
3. Self-loops are dropped and both directions of every edge are kept once (duplicates merged).

So the expected degree of node i is ≈ d θ_i / E[θ] (the degree-corrected SBM of Karrer & Newman, 2011), and the
edge homophily (fraction of edges within a class) is ≈ h; h = 1/C is a graph with no class structure, h < 1/C a
heterophilic one. Features carry a planted label signal as in the contextual SBM (Deshpande et al., 2018):
x_i = s·μ_{y_i} + ε_i with class means μ_c ~ N(0, I) and noise ε_i ~ N(0, I).
"""

from __future__ import annotations

import numpy as np
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


def _power_law_propensities(rng: np.random.Generator, num_nodes: int, exponent: float | None,
                            max_propensity: float) -> np.ndarray:
    """θ_i ~ Pareto: P(θ > t) = t^{−(a−1)} for t ≥ 1, capped at ``max_propensity`` (inverse-CDF sampling)."""
    if exponent is None:
        return np.ones(num_nodes)
    uniform = rng.random(num_nodes)
    return np.minimum((1.0 - uniform) ** (-1.0 / (exponent - 1.0)), max_propensity)


def _draw_within_class(rng: np.random.Generator, classes: np.ndarray, order: np.ndarray, cumulative: np.ndarray,
                       class_start: np.ndarray, class_end: np.ndarray) -> np.ndarray:
    """One node per entry of ``classes``, drawn with probability ∝ θ among the nodes of that class.

    ``cumulative`` is the running sum of θ over the nodes sorted by class (``order``); the nodes of class c occupy
    the interval (cumulative[start_c − 1], cumulative[end_c − 1]], so a uniform point in it, located by binary search,
    is a θ-weighted draw from class c.
    """
    low = np.where(class_start > 0, cumulative[np.maximum(class_start - 1, 0)], 0.0)[classes]
    high = cumulative[class_end - 1][classes]
    points = low + rng.random(classes.size) * (high - low)
    positions = np.searchsorted(cumulative, points, side="right")
    positions = np.clip(positions, class_start[classes], class_end[classes] - 1)
    return order[positions]


def degree_corrected_sbm(
    num_nodes: int = 100_000,
    num_classes: int = 10,
    average_degree: float = 10.0,
    homophily: float = 0.7,
    exponent: float | None = 2.5,
    max_propensity: float | None = None,
    num_features: int = 32,
    signal: float = 0.5,
    train_fraction: float = 0.1,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> Data:
    """A degree-corrected SBM with power-law degrees, edge homophily ≈ ``homophily`` and a planted label signal.

    Args:
        num_nodes: n.
        num_classes: C ≥ 2, the classes (uniform).
        average_degree: d, the mean number of neighbours before duplicates and self-loops are removed.
        homophily: h ∈ [0, 1], the probability that an edge joins two nodes of the same class.
        exponent: a > 2 of the propensity law P(θ) ∝ θ^{−a} (degrees follow the same tail); None for equal θ.
        max_propensity: cap on θ (default √n, which keeps the largest expected degree below d√n).
        num_features: feature dimension.
        signal: s, the length scale of the class means in the features (0: features carry no label).
        train_fraction, val_fraction: the shares of nodes in the random train and validation masks; the rest tests.
        seed: the seed of every draw; equal seeds give equal graphs.

    Returns:
        ``Data(x, y, edge_index, train_mask, val_mask, test_mask, propensity)``; ``edge_index`` is undirected
        (both directions stored), sorted, free of self-loops and duplicates.
    """
    if num_nodes < 2:
        raise ValueError(f"num_nodes: need at least 2 nodes, got {num_nodes}")
    if num_classes < 2:
        raise ValueError(f"num_classes: need at least 2 classes, got {num_classes}")
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily: must lie in [0, 1], got {homophily}")
    if not average_degree > 0:
        raise ValueError(f"average_degree: must be > 0, got {average_degree}")
    if exponent is not None and not exponent > 2:
        raise ValueError(f"exponent: the power-law exponent must be > 2 (finite mean degree), got {exponent}")
    if not (0 <= train_fraction and 0 <= val_fraction and train_fraction + val_fraction <= 1):
        raise ValueError(f"train_fraction, val_fraction: must be >= 0 with a sum <= 1, "
                         f"got {train_fraction} and {val_fraction}")
    rng = np.random.default_rng(seed)
    cap = float(np.sqrt(num_nodes)) if max_propensity is None else float(max_propensity)
    y = rng.integers(num_classes, size=num_nodes)
    theta = _power_law_propensities(rng, num_nodes, exponent, cap)

    order = np.argsort(y, kind="stable")
    cumulative = np.cumsum(theta[order])
    counts = np.bincount(y, minlength=num_classes)
    class_end = np.cumsum(counts)
    class_start = class_end - counts
    if (counts == 0).any():
        raise ValueError(f"num_classes: some of the {num_classes} classes drew no node; use more nodes")

    num_edges = int(round(num_nodes * average_degree / 2))
    first = np.searchsorted(cumulative, rng.random(num_edges) * cumulative[-1], side="right")
    first = order[np.minimum(first, num_nodes - 1)]
    same = rng.random(num_edges) < homophily
    shift = rng.integers(1, num_classes, size=num_edges)
    other_class = np.where(same, y[first], (y[first] + shift) % num_classes)
    second = _draw_within_class(rng, other_class, order, cumulative, class_start, class_end)

    keep = first != second
    first, second = first[keep], second[keep]
    # Both directions, duplicates merged: sort the unique keys source·n + target.
    keys = np.unique(np.concatenate([first * num_nodes + second, second * num_nodes + first]))
    edge_index = torch.from_numpy(np.stack([keys // num_nodes, keys % num_nodes]))

    generator = torch.Generator().manual_seed(seed)
    means = torch.randn(num_classes, num_features, generator=generator)
    labels = torch.from_numpy(y)
    x = signal * means[labels] + torch.randn(num_nodes, num_features, generator=generator)

    permutation = torch.from_numpy(rng.permutation(num_nodes))
    num_train, num_val = int(train_fraction * num_nodes), int(val_fraction * num_nodes)
    masks = [torch.zeros(num_nodes, dtype=torch.bool) for _ in range(3)]
    masks[0][permutation[:num_train]] = True
    masks[1][permutation[num_train:num_train + num_val]] = True
    masks[2][permutation[num_train + num_val:]] = True
    return Data(x=x, y=labels, edge_index=edge_index, train_mask=masks[0], val_mask=masks[1], test_mask=masks[2],
                propensity=torch.from_numpy(theta))
