"""A fixed sparse graph operator S (e.g. D̂^{−1/2} Â D̂^{−1/2} of eq. (5)) applied as S @ H, with its transpose cached.

``torch.sparse.mm`` differentiates S @ H by transposing S at every backward call (a sort over all edges); a
GraphCON solve applies the same S at every step, so the transpose is built once per bound graph instead.
Gradients flow to H only: S is a constant of the graph.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor


def _csr(indices: Tensor, values: Tensor, size: int) -> Tensor:
    coo = torch.sparse_coo_tensor(indices, values, (size, size), check_invariants=True).coalesce()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return coo.to_sparse_csr()


class _Apply(torch.autograd.Function):
    @staticmethod
    def forward(ctx, matrix: Tensor, transpose: Tensor, h: Tensor) -> Tensor:
        ctx.transpose = transpose
        return matrix @ h

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, None, ctx.transpose @ grad


class SparseOperator:
    """S with S[target, source] = weight for every edge (source → target), as CSR, and Sᵀ beside it.

    Args:
        edge_index: [2, E] edges (source, target), as PyG lists them.
        edge_weight: [E] weights.
        num_nodes: the size of S.
    """

    def __init__(self, edge_index: Tensor, edge_weight: Tensor, num_nodes: int):
        self.matrix = _csr(edge_index.flip(0), edge_weight, num_nodes)
        self.transpose = _csr(edge_index, edge_weight, num_nodes)

    def to(self, device: torch.device | None = None, dtype: torch.dtype | None = None) -> SparseOperator:
        moved = object.__new__(SparseOperator)
        moved.matrix = self.matrix.to(device=device, dtype=dtype)
        moved.transpose = self.transpose.to(device=device, dtype=dtype)
        return moved

    def __matmul__(self, h: Tensor) -> Tensor:
        return _Apply.apply(self.matrix, self.transpose, h)
