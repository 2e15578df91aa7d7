"""The heterophilous node-classification sets of Platonov et al. (2023), "A critical look at the evaluation of GNNs
under heterophily", from the authors' ``.npz`` files (yandex-research/heterophilous-graphs, ``data/``):

    ROOT/{minesweeper,tolokers,roman_empire,amazon_ratings,questions}/raw/FOLDER.npz   HeterophilousGraphDataset
    ROOT/chameleon-filtered/raw/chameleon_filtered.npz                                 :func:`load_filtered`
    ROOT/squirrel-filtered/raw/squirrel_filtered.npz                                   :func:`load_filtered`

Every file holds ``node_features`` [N, F], ``node_labels`` [N], ``edges`` [E, 2] (each undirected pair once) and
``train_masks``, ``val_masks``, ``test_masks`` [10, N]: ten fixed splits, 50/25/25 % for the five new sets. The
graph is returned as PyG's ``HeterophilousGraphDataset`` builds it: edges in both directions (sorted, duplicates
merged) and masks transposed to [N, 10], so that split i is column i.

chameleon-filtered and squirrel-filtered are the Wikipedia graphs chameleon and squirrel with the duplicate nodes
Platonov et al. found removed (nodes with the same features and neighbours, which leak test labels into
training); they keep the 48/32/20 % geom-gcn splits restricted to the remaining nodes and are scored by accuracy
over their five classes. PyG has no loader for them; :func:`load_filtered` reads them the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import HeterophilousGraphDataset
from torch_geometric.utils import to_undirected

from graphcon_ode.datasets.storage import DatasetSpec

PYG_HETEROPHILOUS = ("minesweeper", "tolokers", "roman-empire", "amazon-ratings", "questions")
FILTERED = ("chameleon-filtered", "squirrel-filtered")


def heterophilous_spec(name: str) -> DatasetSpec:
    """One of :data:`PYG_HETEROPHILOUS`, read by PyG's ``HeterophilousGraphDataset``."""
    folder = name.replace("-", "_")  # PyG's folder and file name for "roman-empire" is "roman_empire"
    return DatasetSpec(folder, (f"{folder}.npz",), f"PyG's HeterophilousGraphDataset(root, {name!r})",
                       lambda root: HeterophilousGraphDataset(root, name)[0])


def load_filtered(path: Path) -> Data:
    """The graph of one authors' ``.npz`` file, built as ``HeterophilousGraphDataset.process`` builds it: ``x``,
    ``y``, ``edge_index`` = the listed pairs in both directions (``to_undirected``), masks [N, 10]."""
    with np.load(path) as raw:
        x = torch.from_numpy(raw["node_features"])
        y = torch.from_numpy(raw["node_labels"])
        edge_index = to_undirected(torch.from_numpy(raw["edges"]).t().contiguous(), num_nodes=x.size(0))
        masks = [torch.from_numpy(raw[key]).t().contiguous() for key in ("train_masks", "val_masks", "test_masks")]
    return Data(x=x, y=y, edge_index=edge_index, train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])


def filtered_spec(name: str) -> DatasetSpec:
    """One of :data:`FILTERED`: folder ``name``, file ``name`` with "_" for "-" (``chameleon_filtered.npz``)."""
    file = f"{name.replace('-', '_')}.npz"
    return DatasetSpec(name, (file,), f"Platonov et al. (2023), yandex-research/heterophilous-graphs data/{file}",
                       lambda root: load_filtered(Path(root) / name / "raw" / file))
