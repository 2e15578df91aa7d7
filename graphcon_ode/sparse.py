"""A fixed sparse graph operator S (e.g. D̂^{−1/2} Â D̂^{−1/2} of eq. (5)) applied as S @ H, with its transpose cached.

``torch.sparse.mm`` differentiates S @ H by transposing S at every backward call (a sort over all edges); a
GraphCON solve applies the same S at every step, so the transpose is built once per bound graph instead.
Gradients flow to H only: S is a constant of the graph.

The product is the operator ``graphcon_ode::csr_product`` (``torch.library.custom_op``) on the dense parts of S
and Sᵀ (row offsets, column indices, values): ``torch.compile`` traces it as one opaque call without a graph break
(it cannot take a sparse tensor as a graph input), and its registered backward, Sᵀ·G, is the same operator with
the roles of S and Sᵀ exchanged, so it is differentiable again.
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


INT32_LIMIT = 2**31 - 1
"""The largest index an int32 holds: an operator with fewer nonzeros and nodes stores its indices as int32."""


def _narrowed(matrix: Tensor) -> Tensor:
    """The CSR ``matrix`` with int32 row offsets and column indices when its nonzeros fit, else itself: the CPU
    product converts int64 indices to int32 at every call (two copies of the column indices a step), and int32
    halves the indices' memory."""
    if matrix.crow_indices().dtype == torch.int32 or matrix.values().numel() > INT32_LIMIT:
        return matrix
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(matrix.crow_indices().int(), matrix.col_indices().int(), matrix.values(),
                                       matrix.shape, check_invariants=False)


def _parts(matrix: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The CSR parts, sharing the matrix's storage; ``values()`` is detached from its view of the sparse tensor,
    which ``torch.compile`` could not take as a graph input."""
    return matrix.crow_indices(), matrix.col_indices(), matrix.values().detach()


@torch.library.custom_op("graphcon_ode::csr_product", mutates_args=())
def csr_product(rows: Tensor, columns: Tensor, values: Tensor, rows_t: Tensor, columns_t: Tensor,
                values_t: Tensor, h: Tensor) -> Tensor:
    """S @ H for the square CSR matrix S = (``rows``, ``columns``, ``values``); (``rows_t``, ``columns_t``,
    ``values_t``) is Sᵀ, which only the backward pass reads. No gradient flows to the parts of S."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        matrix = torch.sparse_csr_tensor(rows, columns, values, (h.shape[0], h.shape[0]), check_invariants=False)
    return matrix @ h


@csr_product.register_fake
def _csr_product_shape(rows, columns, values, rows_t, columns_t, values_t, h):
    return h.new_empty((rows.shape[0] - 1, h.shape[1]))


def _keep_transpose(ctx, inputs, output) -> None:
    ctx.save_for_backward(*inputs[:6])


def _product_backward(ctx, grad: Tensor):
    rows, columns, values, rows_t, columns_t, values_t = ctx.saved_tensors
    return None, None, None, None, None, None, csr_product(rows_t, columns_t, values_t, rows, columns, values, grad)


csr_product.register_autograd(_product_backward, setup_context=_keep_transpose)


class SparseOperator:
    """S with S[target, source] = weight for every edge (source → target), as CSR, and Sᵀ beside it.

    Args:
        edge_index: [2, E] edges (source, target), as PyG lists them.
        edge_weight: [E] weights.
        num_nodes: the size of S.

    Attributes:
        matrix, transpose: S and Sᵀ as sparse CSR tensors, with int32 indices where they fit; for a symmetric S
            (an undirected graph) both are the same tensor, stored once.
        parts: their dense parts (views of the same storage), what the product reads.
    """

    def __init__(self, edge_index: Tensor, edge_weight: Tensor, num_nodes: int):
        self._hold(_csr(edge_index.flip(0), edge_weight, num_nodes), _csr(edge_index, edge_weight, num_nodes))

    def _hold(self, matrix: Tensor, transpose: Tensor) -> None:
        matrix, transpose = _narrowed(matrix), (None if transpose is matrix else _narrowed(transpose))
        # a symmetric S (an undirected graph's D̂^{−1/2} Â D̂^{−1/2}) is kept once
        if transpose is None or _same(matrix, transpose):
            transpose = matrix
        self.matrix, self.transpose = matrix, transpose
        self.parts = (*_parts(matrix), *_parts(transpose))

    def to(self, device: torch.device | None = None, dtype: torch.dtype | None = None) -> SparseOperator:
        moved = object.__new__(SparseOperator)
        matrix = self.matrix.to(device=device, dtype=dtype)
        moved._hold(matrix, matrix if self.transpose is self.matrix else self.transpose.to(device=device, dtype=dtype))
        return moved

    def __call__(self, h: Tensor) -> Tensor:
        """S @ H; the spelling ``torch.compile`` traces (dynamo cannot trace ``@`` whose left operand is not a
        tensor, and breaks the graph there)."""
        return csr_product(*self.parts, h)

    def __matmul__(self, h: Tensor) -> Tensor:
        return self(h)


def _same(a: Tensor, b: Tensor) -> bool:
    """Whether two CSR matrices hold the same pattern and values."""
    if a.shape != b.shape or a.values().shape != b.values().shape:
        return False
    return (torch.equal(a.crow_indices(), b.crow_indices()) and torch.equal(a.col_indices(), b.col_indices())
            and torch.equal(a.values(), b.values()))
