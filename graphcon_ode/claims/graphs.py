"""Small graphs and the dense coupling matrices A of Section 3, in float64.

Adjacency matrices are dense symmetric 0/1 tensors without self-loops. The coupling matrices are those of eq. (8):
``attention_operator`` is D̂⁻¹Â, what GAT (and any right-stochastic attention) gives at a constant state (eq. (36));
``doubly_stochastic_operator`` is a symmetric, right-stochastic A on any graph (the setting of Prop. 3.1).
"""

from __future__ import annotations

import torch
from torch import Tensor

DTYPE = torch.float64


def adjacency(num_nodes: int, pairs: list[tuple[int, int]]) -> Tensor:
    """The symmetric 0/1 adjacency matrix of the undirected edges ``pairs`` (self-loops dropped)."""
    adj = torch.zeros(num_nodes, num_nodes, dtype=DTYPE)
    for i, j in pairs:
        if i != j:
            adj[i, j] = adj[j, i] = 1.0
    return adj


def grid(rows: int, cols: int, periodic: bool = False) -> Tensor:
    """The rows × cols grid with 4-neighbour connectivity; ``periodic`` closes it into a (4-regular) torus."""
    def node(r: int, c: int) -> int:
        return (r % rows) * cols + c % cols

    pairs = []
    for r in range(rows):
        for c in range(cols):
            if periodic or c + 1 < cols:
                pairs.append((node(r, c), node(r, c + 1)))
            if periodic or r + 1 < rows:
                pairs.append((node(r, c), node(r + 1, c)))
    return adjacency(rows * cols, pairs)


def star(num_nodes: int) -> Tensor:
    """Node 0 joined to every other node."""
    return adjacency(num_nodes, [(0, i) for i in range(1, num_nodes)])


def random_graph(num_nodes: int, edge_probability: float, generator: torch.Generator) -> Tensor:
    upper = torch.rand(num_nodes, num_nodes, generator=generator, dtype=DTYPE) < edge_probability
    upper = torch.triu(upper, diagonal=1).to(DTYPE)
    return upper + upper.T


def edge_index(adj: Tensor) -> Tensor:
    """The PyG edge list of ``adj``: every undirected edge in both directions."""
    return adj.nonzero().T.contiguous()


def attention_operator(adj: Tensor) -> Tensor:
    """D̂⁻¹Â with Â = A + I: the right-stochastic coupling of GAT at a constant state (eq. (36))."""
    a_hat = adj + torch.eye(adj.shape[0], dtype=DTYPE)
    return a_hat / a_hat.sum(1, keepdim=True)


def gcn_operator(adj: Tensor) -> Tensor:
    """D̂^{−1/2} Â D̂^{−1/2} of eq. (5)."""
    a_hat = adj + torch.eye(adj.shape[0], dtype=DTYPE)
    d = a_hat.sum(1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


def doubly_stochastic_operator(adj: Tensor, edge_weights: Tensor) -> Tensor:
    """A symmetric, right-stochastic A on the graph ``adj`` from positive symmetric ``edge_weights``.

    A_ij = w_ij / max(s_i, s_j) on edges (s_i = Σ_j w_ij) and A_ii = 1 − Σ_{j≠i} A_ij ≥ 0: Metropolis weights,
    which exist on every graph, unlike A = adjacency/degree, which is symmetric only on regular graphs.
    """
    weights = adj * edge_weights
    strength = weights.sum(1)
    scale = torch.maximum(strength[:, None], strength[None, :]).clamp_min(torch.finfo(DTYPE).tiny)
    off_diagonal = weights / scale
    return off_diagonal + torch.diag((1.0 - off_diagonal.sum(1)).clamp_min(0.0))


def laplacian_spectrum(a: Tensor) -> Tensor:
    """Eigenvalues of L = I − A, real for the symmetric and the attention operators (ascending)."""
    eig = torch.linalg.eigvals(torch.eye(a.shape[0], dtype=DTYPE) - a).real
    return eig.sort().values
