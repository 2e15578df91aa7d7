"""The graph formats a field can be bound to: an edge list, PyG's ``EdgeIndex``, or a ``torch.sparse`` adjacency.

PyG's extension-free sparse inputs come in two forms, and both are reduced here, once per binding, to the plain
[2, E] edge list (source, target) that the couplings prepare their operators from:

- ``torch_geometric.EdgeIndex``: an edge list that also knows its node count (``sparse_size``); its plain tensor
  is used (``EdgeIndex`` routes every operation through its own dispatch, which the one-off preprocessing does not
  need) and its node count fills in ``num_nodes``.
- a square ``torch.sparse`` matrix (CSR, CSC or COO) read as PyG's layers read one: the transposed adjacency
  ``adj_t`` with adj_t[target, source] = weight, as ``torch_geometric.transforms.ToSparseTensor`` and
  ``to_torch_csr_tensor(edge_index.flip(0))`` build it. Its size fills in ``num_nodes``; stored values other than
  all ones become ``edge_weight`` (used by GCN's normalisation, passed to any other layer).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric import EdgeIndex
from torch_geometric.utils import to_edge_index

SPARSE_LAYOUTS = (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc)


def edge_list(edge_index: Any, num_nodes: int | None, graph: dict[str, Any]
              ) -> tuple[Any, int | None, dict[str, Any]]:
    """(edge list, num_nodes, graph tensors) for any accepted graph input; other inputs come back unchanged.

    Raises:
        ValueError: a sparse adjacency that is not square, or whose size contradicts ``num_nodes``.
    """
    if isinstance(edge_index, EdgeIndex):
        size = edge_index.sparse_size()
        known = [s for s in size if s is not None]
        if num_nodes is None and known:
            num_nodes = max(known)
        return edge_index.as_tensor(), num_nodes, graph
    if isinstance(edge_index, Tensor) and edge_index.layout in SPARSE_LAYOUTS:
        rows, cols = edge_index.shape
        if rows != cols:
            raise ValueError(f"edge_index: a sparse adjacency must be square, got shape {[rows, cols]}")
        if num_nodes is not None and num_nodes != rows:
            raise ValueError(f"num_nodes: {num_nodes} contradicts the sparse adjacency's size {rows}")
        target_source, weight = to_edge_index(edge_index)
        if not bool((weight == 1).all()):
            graph = {**graph, "edge_weight": weight}
        return target_source.flip(0), rows, graph
    return edge_index, num_nodes, graph


def graph_key(edge_index: Tensor) -> tuple:
    """A key that changes when a graph input is replaced or modified in place (storage, shape, version)."""
    if edge_index.layout == torch.sparse_csr:
        parts = (edge_index.crow_indices(), edge_index.col_indices(), edge_index.values())
    elif edge_index.layout == torch.sparse_csc:
        parts = (edge_index.ccol_indices(), edge_index.row_indices(), edge_index.values())
    elif edge_index.layout == torch.sparse_coo:
        parts = (edge_index._indices(), edge_index._values())
    else:
        return (edge_index.data_ptr(), edge_index.shape, edge_index.stride(), edge_index._version, edge_index.device)
    return tuple((part.data_ptr(), part.shape, part._version) for part in parts) + (edge_index.device,)
