"""Graph-level datasets (Tables 3–7): PyG's own loaders for users with the files, and two offline stand-ins.

    ROOT/ZINC/raw/{train,val,test}.{pickle,index}                     ZINC(root, subset=True)      regression, MAE
    ROOT/MNISTSuperpixels/raw/MNISTSuperpixels.pt                     MNISTSuperpixels(root)       classification
    ROOT/PPI/raw/{train,valid,test}_{feats.npy,graph_id.npy,graph.json,labels.npy}   PPI(root)   node multi-label
    ROOT/moses/test.csv.gz          → "zinc-moses", stand-in for ZINC 12k (:mod:`.molecules`)
    ROOT/mnist5k/mnist_5k.csv.gz    → "mnist5k-superpixels", stand-in for MNIST-75 (:mod:`.superpixels`)

:data:`GRAPH_DATASETS` names them all and :func:`load_graph_dataset` loads one. As for the node datasets
(:mod:`.storage`), the data root is only read, a missing raw file raises
:class:`MissingDatasetError` naming the files and the folder, nothing is downloaded, and processed files go to the
library's cache root. A stand-in is built once and cached under a key of its raw file's content hash and the
processing settings, so a changed raw file is processed again. docs/reference/datasets.md says exactly how each
stand-in differs from its original; a stand-in's results are never to be labelled with the original's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.datasets import PPI, ZINC, MNISTSuperpixels

from graphcon_ode.datasets.molecules import (
    MOLECULE_ATOM_TYPES,
    MOLECULE_ATOM_VOCABULARY,
    MOLECULE_BOND_TYPES,
    MOSES_FILE,
    ZINC_MOSES_SEED,
    ZINC_MOSES_SIZES,
    build_zinc_moses,
)
from graphcon_ode.datasets.storage import cache_root, file_digest, link_raw_files, require_raw_files, resolve_data_root
from graphcon_ode.datasets.superpixels import (
    MAX_SUPERPIXELS,
    MNIST5K_FILE,
    MNIST5K_SEED,
    MNIST5K_SIZES,
    MNIST_SUPERPIXELS_SIZE,
    NEIGHBOURS,
    SLIC_COMPACTNESS,
    build_mnist5k_superpixels,
)
from graphcon_ode.results import write_through
from solvers.registry import Registry

TASK_METRICS = {"regression": "mae", "classification": "accuracy", "multilabel": "micro_f1"}


@dataclass(frozen=True)
class GraphDataset:
    """A dataset of many graphs, split three ways.

    Attributes:
        name: the dataset's name in :data:`GRAPH_DATASETS`.
        train, val, test: sequences of PyG ``Data`` (PyG datasets or cached splits), ready for PyG's ``DataLoader``.
        task: "regression", "classification" or "multilabel".
        metric: "mae", "accuracy" or "micro_f1".
        level: "graph" (one target per graph) or "node" (PPI: one label vector per node).
        num_features: node feature columns (1 for integer atom types).
        num_classes: model outputs per graph (or node): 1 for regression, else classes or labels.
        atom_vocabulary: the number of integer node types (``GraphCONGraphModel(atom_vocabulary=...)``), or None
            for float features.
        edge_vocabulary: the number of integer edge (bond) types in ``edge_attr``, or None without edge features.
        stand_in_for: the original benchmark a stand-in replaces (None for an original).
    """

    name: str
    train: Sequence[Data]
    val: Sequence[Data]
    test: Sequence[Data]
    task: str
    num_features: int
    num_classes: int
    level: str = "graph"
    atom_vocabulary: int | None = None
    edge_vocabulary: int | None = None
    stand_in_for: str | None = None

    @property
    def metric(self) -> str:
        return TASK_METRICS[self.task]


class CachedGraphs(InMemoryDataset):
    """A list of graphs saved with PyG's ``InMemoryDataset.save`` and read back from ``path``."""

    def __init__(self, path: str | Path):
        super().__init__(None)
        self.load(str(path))


def _pyg_root(root: Path, folder: str, files: Sequence[str], name: str, loader: str) -> str:
    """Check the raw files of a PyG loader, link them into the cache root, return the root to give PyG."""
    raw = root / folder / "raw"
    require_raw_files(name, raw, files, f"the raw files of PyG's {loader}")
    target = cache_root(root) / folder
    link_raw_files(raw, target / "raw", tuple(files))
    return str(target)


# ---------------------------------------------------------------------------------------------------- originals

ZINC_FILES = tuple(f"{split}.{kind}" for split in ("train", "val", "test") for kind in ("pickle", "index"))
ZINC_ATOM_TYPES = 28
ZINC_BOND_TYPES = 4  # 0 none, 1 single, 2 double, 3 triple
PPI_FILES = tuple(f"{split}_{part}" for split in ("train", "valid", "test")
                  for part in ("feats.npy", "graph_id.npy", "graph.json", "labels.npy"))
MNIST_SUPERPIXELS_FILES = ("MNISTSuperpixels.pt",)


def load_zinc(root: Path) -> GraphDataset:
    """ZINC 12k (the benchmarking-GNNs subset): 10,000/1,000/1,000 molecules, penalised logP, MAE (Table 4)."""
    pyg_root = _pyg_root(root, "ZINC", ZINC_FILES, "zinc", "ZINC(root, subset=True)")
    train, val, test = (ZINC(pyg_root, subset=True, split=split) for split in ("train", "val", "test"))
    return GraphDataset("zinc", train, val, test, "regression", num_features=1, num_classes=1,
                        atom_vocabulary=ZINC_ATOM_TYPES, edge_vocabulary=ZINC_BOND_TYPES)


def load_ppi(root: Path) -> GraphDataset:
    """PPI: 20/2/2 protein graphs, 50 node features, 121 labels per node, micro-F1 (Table 3, inductive)."""
    pyg_root = _pyg_root(root, "PPI", PPI_FILES, "ppi", "PPI(root)")
    train, val, test = (PPI(pyg_root, split=split) for split in ("train", "val", "test"))
    return GraphDataset("ppi", train, val, test, "multilabel", num_features=train.num_features,
                        num_classes=train.num_classes, level="node")


def intensity_and_position(data: Data) -> Data:
    """Node features [intensity, row/28, column/28] (MNISTSuperpixels keeps the centroids in ``pos``)."""
    data = data.clone()
    data.x = torch.cat([data.x, data.pos / MNIST_SUPERPIXELS_SIZE], dim=1)
    return data


def load_mnist_superpixels(root: Path) -> GraphDataset:
    """MNIST-75 (Monti et al.): 60,000 training and 10,000 test digits as ≤ 75-superpixel graphs (Table 5).

    Node features: intensity and the centroid (scaled to [0, 1]). The last twelfth of PyG's training set (5,000
    of 60,000 digits) validates; the rest trains.
    """
    pyg_root = _pyg_root(root, "MNISTSuperpixels", MNIST_SUPERPIXELS_FILES, "mnist-superpixels",
                         "MNISTSuperpixels(root)")
    train = MNISTSuperpixels(pyg_root, train=True, transform=intensity_and_position)
    test = MNISTSuperpixels(pyg_root, train=False, transform=intensity_and_position)
    num_val = len(train) // 12
    return GraphDataset("mnist-superpixels", train[:len(train) - num_val], train[len(train) - num_val:], test,
                        "classification", num_features=3, num_classes=10)


# ------------------------------------------------------------------------------------------------- stand-ins

def _cached_splits(folder: Path, raw_file: Path, settings: str,
                   build: Callable[[], tuple[list[Data], list[Data], list[Data]]]) -> list[CachedGraphs]:
    """The three splits from ``folder/<key>/``, built by ``build`` first when absent; the key hashes the raw
    file's content and the processing ``settings``. Each file is written to a temporary name and renamed, so a
    concurrent reader sees a whole file or none."""
    key = hashlib.sha1(f"{file_digest(raw_file)}|{settings}".encode()).hexdigest()[:16]
    target = folder / key
    paths = [target / f"{split}.pt" for split in ("train", "val", "test")]
    if not all(path.is_file() for path in paths):
        target.mkdir(parents=True, exist_ok=True)
        for graphs, path in zip(build(), paths):
            write_through(path, lambda temporary, graphs=graphs: InMemoryDataset.save(graphs, str(temporary)))
    return [CachedGraphs(path) for path in paths]


def load_zinc_moses(root: Path) -> GraphDataset:
    """The offline stand-in for ZINC 12k (see docs/reference/datasets.md): 12,000 MOSES molecules, penalised logP."""
    path = root.joinpath(*MOSES_FILE)
    require_raw_files("zinc-moses", path.parent, [path.name], "the MOSES test split, one column SMILES")
    settings = f"zinc-moses|v1|{ZINC_MOSES_SIZES}|{ZINC_MOSES_SEED}|{MOLECULE_ATOM_TYPES}|{MOLECULE_BOND_TYPES}"
    train, val, test = _cached_splits(cache_root(root) / "zinc-moses", path, settings,
                                      lambda: build_zinc_moses(path, ZINC_MOSES_SIZES, ZINC_MOSES_SEED))
    return GraphDataset("zinc-moses", train, val, test, "regression", num_features=1, num_classes=1,
                        atom_vocabulary=MOLECULE_ATOM_VOCABULARY, edge_vocabulary=len(MOLECULE_BOND_TYPES),
                        stand_in_for="zinc")


def load_mnist5k_superpixels(root: Path) -> GraphDataset:
    """The offline stand-in for MNIST-75 (see docs/reference/datasets.md): 5,000 digits as SLIC superpixel graphs."""
    path = root.joinpath(*MNIST5K_FILE)
    require_raw_files("mnist5k-superpixels", path.parent, [path.name],
                      "5,000 MNIST digits, 784 pixel columns and the label")
    settings = f"mnist5k|v1|{MNIST5K_SIZES}|{MNIST5K_SEED}|{MAX_SUPERPIXELS}|{SLIC_COMPACTNESS}|{NEIGHBOURS}"
    train, val, test = _cached_splits(cache_root(root) / "mnist5k-superpixels", path, settings,
                                      lambda: build_mnist5k_superpixels(path, MNIST5K_SIZES, MNIST5K_SEED))
    return GraphDataset("mnist5k-superpixels", train, val, test, "classification", num_features=3, num_classes=10,
                        stand_in_for="mnist-superpixels")


GRAPH_DATASETS: Registry[Callable[[Path], GraphDataset]] = Registry("graph dataset", {
    "zinc": load_zinc,
    "ppi": load_ppi,
    "mnist-superpixels": load_mnist_superpixels,
    "zinc-moses": load_zinc_moses,
    "mnist5k-superpixels": load_mnist5k_superpixels,
})


def load_graph_dataset(name: str, data_root: str | Path | None = None) -> GraphDataset:
    """The graph-level dataset ``name`` (:data:`GRAPH_DATASETS`) from the data root (``$GRAPHCON_DATA`` if None).

    Raises:
        MissingDatasetError: its raw files are absent; the message lists them and the folder they belong in.
    """
    if name not in GRAPH_DATASETS:
        raise ValueError(f"name: unknown graph dataset {name!r}; known: {', '.join(GRAPH_DATASETS)}")
    return GRAPH_DATASETS[name](resolve_data_root(data_root))
