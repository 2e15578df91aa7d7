"""Dirichlet energy of node features, eq. (13): E(X) = (1/v) Σ_i Σ_{j ∈ N_i} ‖X_i − X_j‖².

Oversmoothing (Definition 3.2) is the exponential decay of E(X^n) with the layer n.
"""

from __future__ import annotations

from torch import Tensor


def dirichlet_energy(x: Tensor, edge_index: Tensor) -> Tensor:
    """E(X) of eq. (13); ``edge_index`` lists each undirected edge in both directions, as PyG graphs do."""
    source, target = edge_index
    return (x[source] - x[target]).pow(2).sum() / x.shape[0]
