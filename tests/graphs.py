"""Small graphs built inline for tests, and dense reference operators written from the paper's equations."""

from __future__ import annotations

import torch
from torch_geometric.utils import to_undirected


def random_graph(num_nodes: int, num_edges: int, seed: int = 0) -> torch.Tensor:
    """An undirected random graph (both directions listed), no self-loops."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(num_nodes, (num_edges,), generator=g)
    dst = torch.randint(num_nodes, (num_edges,), generator=g)
    keep = src != dst
    return to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=num_nodes)


def dense_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    a = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    a[edge_index[1], edge_index[0]] = 1.0
    return a


def gcn_operator(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """D̂^{-1/2} Â D̂^{-1/2} with Â = A + I (eq. (5))."""
    a_hat = dense_adjacency(edge_index, num_nodes) + torch.eye(num_nodes, dtype=torch.float64)
    d = a_hat.sum(1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


def gat_dense(x: torch.Tensor, edge_index: torch.Tensor, weight: torch.Tensor, att_src: torch.Tensor,
              att_dst: torch.Tensor, bias: torch.Tensor, heads: int) -> torch.Tensor:
    """A(X) X W of Section 2, heads averaged: A_ij = softmax_{j ∈ N_i ∪ {i}} LeakyReLU(a_dst·W X_i + a_src·W X_j)."""
    n = x.shape[0]
    mask = dense_adjacency(edge_index, n).bool() | torch.eye(n, dtype=torch.bool)
    wx = (x @ weight.T).view(n, heads, -1)
    out = torch.zeros(n, wx.shape[-1], dtype=x.dtype)
    for h in range(heads):
        src = wx[:, h] @ att_src[0, h]
        dst = wx[:, h] @ att_dst[0, h]
        logits = torch.nn.functional.leaky_relu(dst[:, None] + src[None, :], 0.2)
        logits = logits.masked_fill(~mask, float("-inf"))
        out += torch.softmax(logits, dim=1) @ wx[:, h]
    return out / heads + bias
