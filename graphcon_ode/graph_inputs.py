"""What a graph model or field is given: the graph formats a field can be bound to (an edge list, PyG's
``EdgeIndex``, or a ``torch.sparse`` adjacency), the cache key of a bound graph, and the checks of the tensors a
model's forward pass takes beside the graph (node features, integer atom types, the ``batch`` vector).

PyG's extension-free sparse inputs come in two forms, and both are reduced here, once per binding, to the plain
[2, E] edge list (source, target) that the couplings prepare their operators from:

- ``torch_geometric.EdgeIndex``: an edge list that also knows its node count (``sparse_size``); its plain tensor
  is used (``EdgeIndex`` routes every operation through its own dispatch, which the one-off preprocessing does not
  need) and its node count fills in ``num_nodes``.
- a square ``torch.sparse`` matrix (CSR, CSC or COO) read as PyG's layers read one: the transposed adjacency
  ``adj_t`` with adj_t[target, source] = weight, as ``torch_geometric.transforms.ToSparseTensor`` and
  ``to_torch_csr_tensor(edge_index.flip(0))`` build it. Its size fills in ``num_nodes``; stored values other than
  all ones become ``edge_weight`` (used by GCN's normalisation, passed to any other layer).

The checks raise at the model's boundary, naming the argument, before torch or PyG would fail inside a layer with
a message about its own tensors (``mat1 and mat2 shapes cannot be multiplied``, ``index out of range in self``) or
return a silently wrong result (a ``batch`` vector that skips graph 0). They read shapes, dtypes and devices, and
at most one reduction of one tensor (a single read of its result, no loop).
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


def check_features(x: Tensor, in_channels: int, like: Tensor, edge_index: Tensor | None = None) -> None:
    """Node features ``x`` of shape [num_nodes, ``in_channels``], floating, in the dtype and on the device of the
    model's parameter ``like``; ``edge_index`` (where given) on that device too.

    Raises:
        TypeError: naming ``x``, features that are not floating point or not in the model's dtype (half-precision
            features to a float32 model, integer features).
        ValueError: naming ``x``, features of another width or rank; naming ``x`` or ``edge_index``, a tensor on
            another device than the model.
    """
    if not x.is_floating_point():
        raise TypeError(f"x: node features must be floating point in the model's dtype {like.dtype}, got {x.dtype}")
    if x.dtype != like.dtype:
        raise TypeError(f"x: node features are {x.dtype} but the model's parameters are {like.dtype}; convert one of "
                        f"them (x.to({like.dtype}) or model.to({x.dtype}))")
    if x.dim() != 2 or x.shape[1] != in_channels:
        raise ValueError(f"x: expected node features of shape [num_nodes, {in_channels}], got {list(x.shape)}")
    check_device("x", x, like)
    if isinstance(edge_index, Tensor):
        check_device("edge_index", edge_index, like)


def check_device(name: str, tensor: Tensor, like: Tensor) -> None:
    """``tensor`` on the device of the model's parameter ``like``; ``ValueError`` naming ``name`` otherwise."""
    if tensor.device != like.device:
        raise ValueError(f"{name}: is on {tensor.device} but the model's parameters are on {like.device}; move one "
                         f"of them ({name}.to({str(like.device)!r}) or model.to({str(tensor.device)!r}))")


def check_atom_types(x: Tensor, vocabulary: int, like: Tensor) -> None:
    """Integer atom types ``x`` ([N] or [N, 1]) in [0, ``vocabulary``) on the device of the parameter ``like``.

    Raises:
        TypeError: naming ``x``, float features given to an embedding of types.
        ValueError: naming ``x``, more than one column, or a type outside [0, atom_vocabulary) (one min/max read).
    """
    if x.is_floating_point() or x.dtype == torch.bool:
        raise TypeError(f"x: the model embeds integer atom types, got dtype {x.dtype}")
    if not (x.dim() == 1 or x.dim() == 2 and x.shape[1] == 1):
        raise ValueError(f"x: integer atom types are one column ([N] or [N, 1]), got shape {list(x.shape)}")
    check_device("x", x, like)
    if x.numel():
        low, high = torch.aminmax(x)
        low, high = int(low), int(high)
        if low < 0 or high >= vocabulary:
            raise ValueError(f"x: atom types must lie in [0, atom_vocabulary={vocabulary}), found "
                             f"{low if low < 0 else high}")


def check_batch(batch: Tensor, num_nodes: int, num_graphs: int | None = None) -> None:
    """A ``batch`` vector: one integer graph index per node, sorted, from 0 (graph 0 may be empty only where
    ``num_graphs`` is given) and below ``num_graphs``.

    Raises:
        TypeError: naming ``batch``, a tensor that is not of integers.
        ValueError: naming ``batch``, another length than the ``num_nodes`` node features, indices that decrease,
            that start above 0 without ``num_graphs``, or that reach ``num_graphs`` (one read of one reduction).
    """
    if batch.is_floating_point() or batch.dtype == torch.bool:
        raise TypeError(f"batch: expected integer graph indices (torch.long), got dtype {batch.dtype}")
    if batch.dim() != 1 or batch.numel() != num_nodes:
        raise ValueError(f"batch: expected one graph index per node, shape [{num_nodes}], got {list(batch.shape)}")
    if not num_nodes:
        return
    step = torch.diff(batch)
    first, smallest_step, last = torch.stack(
        [batch[0], step.min() if step.numel() else batch.new_zeros(()), batch[-1]]).tolist()
    if smallest_step < 0:
        raise ValueError("batch: graph indices must be sorted (the nodes of each graph together, graphs in order)")
    if first < 0 or num_graphs is None and first != 0:  # graph 0 may be empty only where num_graphs says so
        raise ValueError(f"batch: graph indices must start at 0, got {first}")
    if num_graphs is not None and last >= num_graphs:
        raise ValueError(f"batch: graph index {last} is out of range for num_graphs={num_graphs}")


def edge_checksum(edge_index: Tensor) -> int:
    """A checksum of the edges of a [2, E] edge list that ignores their order: Σ_e h_e + Σ_e h_e², h_e = s_e·K + t_e
    (K = 2³¹ − 1, int64 arithmetic wrapping). Any single changed edge changes it, and so does exchanging the targets
    of two edges (the squares differ by 2K(s₁ − s₂)(t₂ − t₁)); reordering the edges does not (the graph is the
    same). One fused pass over the edges and one read of the result."""
    h = edge_index[0] * 2_147_483_647 + edge_index[1]
    return int((h + h * h).sum())


def graph_key(edge_index: Tensor) -> tuple:
    """A key that changes when a graph input is replaced or modified: its storage, shape and version counter,
    and for an edge list (a [2, E] integer tensor or an ``EdgeIndex``) also its :func:`edge_checksum`, so that an
    edit that bypasses the version counter (through ``.data``, a numpy view or DLPack) is seen too. A sparse
    adjacency is keyed on its parts' storage and versions only: an edit of its index or value tensors through
    ``.data`` or a numpy view is not seen, and a field bound to it stays bound to the graph as it was."""
    if edge_index.layout == torch.sparse_csr:
        parts = (edge_index.crow_indices(), edge_index.col_indices(), edge_index.values())
    elif edge_index.layout == torch.sparse_csc:
        parts = (edge_index.ccol_indices(), edge_index.row_indices(), edge_index.values())
    elif edge_index.layout == torch.sparse_coo:
        parts = (edge_index._indices(), edge_index._values())
    else:
        key = (edge_index.data_ptr(), edge_index.shape, edge_index.stride(), edge_index._version, edge_index.device)
        if (edge_index.dim() == 2 and edge_index.shape[0] == 2 and not edge_index.is_floating_point()
                and edge_index.device.type != "meta"):
            key += (edge_checksum(edge_index.as_subclass(Tensor)),)
        return key
    return tuple((part.data_ptr(), part.shape, part._version) for part in parts) + (edge_index.device,)
