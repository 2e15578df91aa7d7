"""GAT attention computed per stored edge of a CSR pattern that is built once per graph.

The attention of Section 2, the coupling F_θ of GraphCON-GAT in eq. (4) (Veličković et al., 2018, eqs. (3)–(4),
heads concatenated as in their eq. (5) or averaged as in eq. (6)), as PyG's ``GATConv`` computes it, for head h:

    e^h_ij = LeakyReLU_{0.2}(a^hᵀ_src W^h X_j + a^hᵀ_dst W^h X_i)          for every edge j → i,
    α^h_ij = exp(e^h_ij) / Σ_{k: k → i} exp(e^h_ik),                     (softmax over i's incoming edges)
    out^h  = A^h (X W^h),   (A^h)_ij = α^h_ij,

with α dropped out in training, the heads then concatenated or averaged. ``GATConv`` gathers X_j W^h for every
edge ([E, heads, m]), multiplies and scatters, and autograd keeps that [E, heads, m] product for the backward.

Here the pattern (rows the targets i, columns the sources j, self-loops as ``GATConv`` adds them) is sorted once
per graph, and the heads become one sparse matrix whose columns are the (source, head) pairs, i.e. the rows of
X W viewed as [N·heads, m], with no copy of X W:

    averaged heads:      out = (1/H) [A^1 … A^H] (X W)      one N × NH CSR product,
    concatenated heads:  out_(i,h) = Σ_j α^h_ij (X W)_(j,h)  one NH × NH CSR product, rows (target, head).

The entries are stored in (target, head, source) order, so the softmax over a target's edges, head by head, is a
segment reduction over consecutive values. The backward keeps only the [E·heads] coefficients:
∂L/∂(X W) = Aᵀ G by the transposed pattern cached as a permutation, and ∂L/∂α^h_ij = ⟨G_i, (X W)_(j,h)⟩ at the
stored edges only (SDDMM, ``torch.sparse.sampled_addmm``), then the softmax and LeakyReLU derivatives per edge.

An edge listed c times enters ``GATConv``'s softmax c times; it is stored once here with multiplicity c, which
gives the same α (c·exp(e) in the sum) and, in training, the same dropout distribution (c independent Bernoulli
draws become one Binomial(c, 1 − p) draw).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable
from torch_geometric.nn import GATConv
from torch_geometric.utils import add_self_loops, remove_self_loops

NEGATIVE_SLOPE = 0.2
"""The LeakyReLU slope of the attention logits (``GATConv``'s default)."""

_SOFTMAX_EPS = 1e-16  # PyG's softmax adds it to the denominator; kept so that α matches GATConv to round-off


@dataclass(frozen=True)
class AttentionPattern:
    """The stored edges j → i of a graph for ``heads`` heads, one value per (edge, head) in (i, h, j) order.

    Attributes:
        num_nodes, heads: N and H.
        segment: [EH] the (target, head) pair i·H + h of every value; the softmax segments are consecutive.
        column: [EH] the (source, head) pair j·H + h of every value.
        segment_crow: [NH + 1] pointers of the segments (the CSR rows of the concatenated-heads matrix).
        target_crow: [N + 1] pointers of the targets (the CSR rows of the averaged-heads matrix).
        transpose: [EH] the values in (j, h, i) order, as positions in (i, h, j) order.
        column_crow: [NH + 1] pointers of the (source, head) pairs in that order (the rows of the transposes).
        segment_t, target_t: [EH] the (target, head) pair and the target of every value in that order.
        multiplicity: [EH] how often the edge of each value is listed, or None when every edge is listed once.
    """

    num_nodes: int
    heads: int
    segment: Tensor
    column: Tensor
    segment_crow: Tensor
    target_crow: Tensor
    transpose: Tensor
    column_crow: Tensor
    segment_t: Tensor
    target_t: Tensor
    multiplicity: Tensor | None

    @property
    def num_values(self) -> int:
        return self.segment.numel()


def _pointers(rows: Tensor, num_rows: int) -> Tensor:
    counts = torch.bincount(rows, minlength=num_rows)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


def attention_pattern(edge_index: Tensor, num_nodes: int, heads: int, self_loops: bool) -> AttentionPattern:
    """The pattern of ``edge_index`` ([2, E], source → target) for ``heads`` heads; ``self_loops=True`` replaces
    the graph's self-loops by one per node, as ``GATConv(add_self_loops=True)`` does, ``False`` keeps the edges as
    listed."""
    if self_loops:
        edge_index, _ = remove_self_loops(edge_index)
        edge_index, _ = add_self_loops(edge_index, num_nodes=num_nodes)
    keys, counts = torch.unique(edge_index[1] * num_nodes + edge_index[0], sorted=True, return_counts=True)
    row, col = keys // num_nodes, keys % num_nodes
    # value (edge e, head h) sits at H·start(row_e) + h·degree(row_e) + (e − start(row_e)): (i, h, j) order
    start = _pointers(row, num_nodes)
    degree = start[1:] - start[:-1]
    edge = torch.arange(row.numel(), device=row.device)
    head = torch.arange(heads, device=row.device)[:, None]
    position = heads * start[row] + head * degree[row] + (edge - start[row])
    order = torch.empty(heads * row.numel(), dtype=torch.long, device=row.device)
    order[position.reshape(-1)] = torch.arange(order.numel(), device=row.device)
    edge, head = order % row.numel(), order // row.numel()
    segment, column = row[edge] * heads + head, col[edge] * heads + head
    transpose = torch.argsort(column * (num_nodes * heads) + segment)
    # 32-bit CSR indices where they fit: MKL's product converts 64-bit ones at every call
    index = torch.int32 if heads * (max(row.numel(), num_nodes) + 1) < 2 ** 31 else torch.int64
    multiplicity = counts[edge] if counts.numel() and int(counts.max()) > 1 else None
    return AttentionPattern(
        num_nodes, heads, segment.to(index), column.to(index), _pointers(segment, num_nodes * heads).to(index),
        (heads * start).to(index), transpose, _pointers(column, num_nodes * heads).to(index),
        segment[transpose].to(index), row[edge][transpose].to(index), multiplicity)


def _csr(crow: Tensor, col: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


def _segment(values: Tensor, pointers: Tensor, reduce: str = "sum") -> Tensor:
    return torch.segment_reduce(values, reduce, offsets=pointers, axis=0, unsafe=True)


def _dropout_scale(alpha: Tensor, multiplicity: Tensor | None, p: float) -> Tensor:
    """The factor F.dropout multiplies α by (kept / (1 − p)), for an edge listed c times the mean of c draws."""
    if p >= 1:
        return torch.zeros_like(alpha)
    keep = alpha.new_full(alpha.shape, 1.0 - p)
    if multiplicity is None:
        return torch.bernoulli(keep).div_(1.0 - p)
    count = multiplicity.to(alpha.dtype)
    return torch.binomial(count, keep).div_(count * (1.0 - p))


def _matrices(pattern: AttentionPattern, concat: bool) -> tuple[tuple[Tensor, Tensor, tuple[int, int]], Tensor]:
    """(crow, col, size) of the attention matrix whose columns are the (source, head) pairs, and the columns of its
    transpose: rows (target, head) for concatenated heads, rows the targets for averaged ones."""
    n, heads = pattern.num_nodes, pattern.heads
    if concat:
        return (pattern.segment_crow, pattern.column, (n * heads, n * heads)), pattern.segment_t
    return (pattern.target_crow, pattern.column, (n, n * heads)), pattern.target_t


class _CsrAttention(torch.autograd.Function):
    """(s, d, P) → the heads' A^h P^h, concatenated or averaged, A^h = dropout(softmax(LeakyReLU(s_j + d_i)))."""

    @staticmethod
    def forward(ctx, src: Tensor, dst: Tensor, projected: Tensor, pattern: AttentionPattern, dropout: float,
                concat: bool):
        n, heads, channels = projected.shape
        logits = src.reshape(-1).index_select(0, pattern.column) + dst.reshape(-1).index_select(0, pattern.segment)
        negative = logits <= 0
        scores = torch.where(negative, logits * NEGATIVE_SLOPE, logits)
        peak = _segment(scores, pattern.segment_crow, "max")
        weights = scores.sub_(peak.index_select(0, pattern.segment)).exp_()
        if pattern.multiplicity is not None:
            weights.mul_(pattern.multiplicity.to(weights.dtype))
        total = _segment(weights, pattern.segment_crow).add_(_SOFTMAX_EPS)
        alpha = weights.div_(total.index_select(0, pattern.segment))
        scale = _dropout_scale(alpha, pattern.multiplicity, dropout) if dropout > 0 else None
        flat = projected.reshape(n * heads, channels)
        (crow, col, size), _ = _matrices(pattern, concat)
        out = _csr(crow, col, alpha if scale is None else alpha * scale, size) @ flat
        ctx.pattern, ctx.concat = pattern, concat
        ctx.save_for_backward(alpha, scale, negative, flat)
        return out.view(n, heads * channels) if concat else out.div_(heads)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        pattern: AttentionPattern = ctx.pattern
        alpha, scale, negative, flat = ctx.saved_tensors
        heads = pattern.heads
        grad = grad.reshape(flat.shape) if ctx.concat else grad / heads
        (crow, col, size), col_t = _matrices(pattern, ctx.concat)
        values = alpha if scale is None else alpha * scale
        transposed = _csr(pattern.column_crow, col_t, values.index_select(0, pattern.transpose), size[::-1])
        grad_projected = transposed @ grad
        sampled = _csr(crow, col, torch.zeros_like(alpha), size)
        grad_alpha = torch.sparse.sampled_addmm(sampled, grad, flat.t(), beta=0.0).values()
        if scale is not None:
            grad_alpha = grad_alpha * scale
        weighted = alpha * grad_alpha
        grad_scores = weighted.sub_(alpha * _segment(weighted, pattern.segment_crow).index_select(0, pattern.segment))
        grad_logits = torch.where(negative, grad_scores * NEGATIVE_SLOPE, grad_scores)
        grad_src = _segment(grad_logits.index_select(0, pattern.transpose), pattern.column_crow)
        grad_dst = _segment(grad_logits, pattern.segment_crow)
        n = pattern.num_nodes
        return (grad_src.view(n, heads), grad_dst.view(n, heads), grad_projected.view(n, heads, -1), None, None,
                None)


def csr_attention(pattern: AttentionPattern, src: Tensor, dst: Tensor, projected: Tensor, dropout: float = 0.0,
                  concat: bool = False) -> Tensor:
    """The heads' A^h P^h, concatenated ([N, heads·m]) or averaged ([N, m]), with α^h from the node scores ``src``
    = a_srcᵀ W^h X and ``dst`` = a_dstᵀ W^h X ([N, heads] each); ``projected`` P = X W as [N, heads, m]; α dropped
    with probability ``dropout``."""
    n, heads, channels = projected.shape
    if pattern.num_values == 0:
        return projected.new_zeros(n, heads * channels if concat else channels)
    return _CsrAttention.apply(src, dst, projected, pattern, dropout, concat)


def gat_conv(conv: GATConv, pattern: AttentionPattern, x: Tensor) -> Tensor:
    """``conv(x, edge_index)`` of a ``GATConv`` (shared ``lin``, no edge features, no ``residual``) on the cached
    pattern of that graph: heads concatenated or averaged as ``conv.concat`` says, bias added."""
    heads, channels = conv.heads, conv.out_channels
    projected = conv.lin(x).view(-1, heads, channels)
    # a_srcᵀ W^h X and a_dstᵀ W^h X as one thin product X (W^hᵀ a): no [N, heads, m] products for the scores
    attention = torch.stack([conv.att_src[0], conv.att_dst[0]])
    folded = torch.einsum("hci,khc->ikh", conv.lin.weight.view(heads, channels, -1), attention)
    scores = (x @ folded.flatten(1)).view(-1, 2, heads)
    out = csr_attention(pattern, scores[:, 0], scores[:, 1], projected, conv.dropout if conv.training else 0.0,
                        conv.concat)
    return out if conv.bias is None else out + conv.bias
