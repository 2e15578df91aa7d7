"""Node-classification datasets from raw files on disk, through PyG's own loaders, and the paper's split protocols.

Raw files live under a data root (``--data-root`` or ``$GRAPHCON_DATA``), laid out as PyG expects them:

    ROOT/Cora/raw/ind.cora.{x,tx,allx,y,ty,ally,graph,test.index}        Planetoid(ROOT, "Cora")
    ROOT/CiteSeer/raw/ind.citeseer.*   ROOT/PubMed/raw/ind.pubmed.*      Planetoid
    ROOT/{texas,wisconsin,cornell}/raw/out1_*.txt + NAME_split_0.6_0.2_{0..9}.npz   WebKB
    ROOT/actor/raw/out1_*.txt + film_split_0.6_0.2_{0..9}.npz           Actor
    ROOT/{minesweeper,...}/raw/FOLDER.npz, ROOT/{chameleon,squirrel}-filtered/raw/   :mod:`.heterophilous`

:data:`DATASETS` names them all and :func:`load_dataset` loads one. As :mod:`.storage` says, the root is only read,
processed files go to the library's cache root, and a missing raw file raises
:class:`~graphcon_ode.datasets.storage.MissingDatasetError` naming the files and the folder; nothing is downloaded.

Split protocols:

- :func:`random_split` with :func:`largest_connected_component`: Table 1 (the protocol of Shchur et al. (2018) as
  used by GRAND): on the largest connected component, a development set of 1500 nodes is drawn at random and every
  other node is a test node; from the development set, 20 nodes of each class are drawn for training and the rest
  of the development set validates. A split is fully determined by its seed.
- :func:`geom_gcn_split`: Table 2, the 10 fixed train/validation/test splits of Pei et al. (2020) shipped with the
  WebKB raw files (60/20/20 % per class).
- The heterophilous sets of Platonov et al. (2023) carry their own 10 fixed splits in the ``.npz``, stored as
  [N, 10] masks, so :func:`geom_gcn_split` picks split i of these too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.datasets import Actor, Planetoid, WebKB

from graphcon_ode.datasets.heterophilous import FILTERED, PYG_HETEROPHILOUS, filtered_spec, heterophilous_spec
from graphcon_ode.datasets.storage import (
    DatasetParseError,
    DatasetSpec,
    cache_root,
    check_consistent,
    content_key,
    file_being_read,
    link_raw_files,
    require_raw_files,
    resolve_data_root,
)
from solvers.registry import Registry

GEOM_GCN_SPLITS = 10


def _planetoid(name: str) -> DatasetSpec:
    parts = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
    return DatasetSpec(name, tuple(f"ind.{name.lower()}.{part}" for part in parts), f"PyG's Planetoid(root, {name!r})",
                       lambda root: Planetoid(root, name)[0])


def _geom_gcn_files(prefix: str) -> tuple[str, ...]:
    return ("out1_node_feature_label.txt", "out1_graph_edges.txt") + tuple(
        f"{prefix}_split_0.6_0.2_{i}.npz" for i in range(GEOM_GCN_SPLITS))


def _webkb(name: str) -> DatasetSpec:
    return DatasetSpec(name, _geom_gcn_files(name), f"PyG's WebKB(root, {name!r})",
                       lambda root: WebKB(root, name)[0])


DATASETS: Registry[DatasetSpec] = Registry("dataset", {
    "cora": _planetoid("Cora"),
    "citeseer": _planetoid("CiteSeer"),
    "pubmed": _planetoid("PubMed"),
    "texas": _webkb("texas"),
    "wisconsin": _webkb("wisconsin"),
    "cornell": _webkb("cornell"),
    "actor": DatasetSpec("actor", _geom_gcn_files("film"), "PyG's Actor(root + '/actor')",
                         lambda root: Actor(os.path.join(root, "actor"))[0]),
    **{name: heterophilous_spec(name) for name in PYG_HETEROPHILOUS},
    **{name: filtered_spec(name) for name in FILTERED},
})


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"name: unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def raw_folder(name: str, data_root: str | Path | None = None) -> Path:
    """The folder that must hold the raw files of dataset ``name``."""
    return resolve_data_root(data_root) / _spec(name).folder / "raw"


def check_raw_files(name: str, data_root: str | Path | None = None) -> Path:
    """The raw folder of dataset ``name``; :class:`MissingDatasetError` naming the absent files and the folder."""
    spec = _spec(name)
    raw = resolve_data_root(data_root) / spec.folder / "raw"
    require_raw_files(name, raw, spec.raw_files, f"the raw files of {spec.loader}")
    return raw


def load_dataset(name: str, data_root: str | Path | None = None) -> Data:
    """The graph of dataset ``name`` as its loader reads it (with its public or geom-gcn masks).

    The processed files go to the cache root under a key of the raw files' content (:func:`content_key`).

    Raises:
        MissingDatasetError: some raw files are absent; the message lists them and the folder they belong in.
        DatasetParseError: a raw file does not parse, or the files do not make one graph; the message names it.
    """
    spec = _spec(name)
    root = resolve_data_root(data_root)
    raw = check_raw_files(name, root)
    cache = cache_root(root) / content_key(raw, spec.raw_files)
    link_raw_files(raw, cache / spec.folder / "raw", spec.raw_files)
    try:
        data = spec.load(str(cache))
    except Exception as error:
        file = file_being_read(error, raw, spec.raw_files)
        where = f"{raw / file}" if file else f"one of the raw files in {raw}"
        raise DatasetParseError(f"{name}: {where} does not parse ({type(error).__name__}: {error}); the file is "
                                f"truncated or corrupt, replace it with the original") from error
    check_consistent(name, data, raw, spec.raw_files)
    return data


def largest_connected_component(data: Data) -> Data:
    """The subgraph on the largest connected component (edges taken as undirected), nodes renumbered in order.

    Node-level tensors (features, labels, masks) are restricted to the component's nodes.
    """
    n = data.num_nodes
    row, col = data.edge_index.numpy()
    adjacency = sp.coo_matrix((np.ones(row.size), (row, col)), shape=(n, n))
    _, component = connected_components(adjacency, directed=False)
    largest = np.bincount(component).argmax()
    keep = torch.from_numpy(component == largest)
    return data.subgraph(keep)


def random_split(y: Tensor, seed: int, num_development: int = 1500,
                 per_class: int = 20) -> tuple[Tensor, Tensor, Tensor]:
    """Table 1's random split: (train, val, test) boolean masks over the nodes labelled ``y``.

    ``num_development`` nodes drawn uniformly without replacement form the development set; all other nodes are
    test nodes. From the development set, ``per_class`` nodes of every class are drawn for training (all of a
    class's development nodes when it has fewer); the remaining development nodes validate. The draws use
    ``numpy.random.default_rng(seed)``, so equal seeds give equal splits.
    """
    n = y.numel()
    if not 0 < num_development <= n:
        raise ValueError(f"num_development: must be in [1, {n}], got {num_development}")
    if per_class < 1:
        raise ValueError(f"per_class: must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    labels = y.numpy()
    development = np.sort(rng.choice(n, num_development, replace=False))
    train = []
    for label in np.unique(labels):
        members = development[labels[development] == label]
        train.append(rng.choice(members, min(per_class, members.size), replace=False))
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    train_mask, val_mask, test_mask = masks
    train_mask[np.concatenate(train)] = True
    val_mask[development] = True
    val_mask &= ~train_mask
    test_mask[:] = True
    test_mask[development] = False
    return train_mask, val_mask, test_mask


def geom_gcn_split(data: Data, index: int) -> tuple[Tensor, Tensor, Tensor]:
    """Split ``index`` (0–9) of the fixed geom-gcn splits: (train, val, test) boolean masks."""
    if data.train_mask.dim() != 2:
        raise ValueError("data: this graph carries no geom-gcn splits (expected masks of shape [N, 10])")
    if not 0 <= index < data.train_mask.shape[1]:
        raise ValueError(f"index: split index must be in [0, {data.train_mask.shape[1] - 1}], got {index}")
    return data.train_mask[:, index], data.val_mask[:, index], data.test_mask[:, index]
