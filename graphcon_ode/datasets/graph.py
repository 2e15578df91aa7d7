"""Graph-level datasets (Tables 3–7): PyG's own loaders for users with the files, and two offline stand-ins.

    ROOT/ZINC/raw/{train,val,test}.{pickle,index}                     ZINC(root, subset=True)      regression, MAE
    ROOT/MNISTSuperpixels/raw/MNISTSuperpixels.pt                     MNISTSuperpixels(root)       classification
    ROOT/PPI/raw/{train,valid,test}_{feats.npy,graph_id.npy,graph.json,labels.npy}   PPI(root)   node multi-label
    ROOT/moses/test.csv.gz          → "zinc-moses", stand-in for ZINC 12k (penalised logP of MOSES molecules)
    ROOT/mnist5k/mnist_5k.csv.gz    → "mnist5k-superpixels", stand-in for MNIST-75 (SLIC superpixels of 5,000 digits)

As for the node datasets (:mod:`graphcon_ode.datasets`), the data root is only read, a missing raw file raises
:class:`MissingDatasetError` naming the files and the folder, nothing is downloaded, and processed files go to the
library's cache root. A stand-in is built once and cached under a key of its raw file's content hash and the
processing settings, so a changed raw file is processed again. docs/graph_datasets.md says exactly how each
stand-in differs from its original; a stand-in's results are never to be labelled with the original's name.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.datasets import PPI, ZINC, MNISTSuperpixels

from graphcon_ode.datasets.node import MissingDatasetError, _link_raw_files, cache_root, resolve_data_root

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


def _require(name: str, raw: Path, files: Sequence[str], loader: str) -> None:
    missing = [file for file in files if not (raw / file).is_file()]
    if missing:
        raise MissingDatasetError(
            f"{name}: {len(missing)} raw file(s) missing: {', '.join(missing)}. Put them in {raw} "
            f"({loader}; nothing is downloaded)")


def _pyg_root(root: Path, folder: str, files: Sequence[str], name: str, loader: str) -> str:
    """Check the raw files of a PyG loader, link them into the cache root, return the root to give PyG."""
    raw = root / folder / "raw"
    _require(name, raw, files, f"the raw files of PyG's {loader}")
    target = cache_root(root) / folder
    _link_raw_files(raw, target / "raw", tuple(files))
    return str(target)


# ---------------------------------------------------------------------------------------------------- originals

ZINC_FILES = tuple(f"{split}.{kind}" for split in ("train", "val", "test") for kind in ("pickle", "index"))
ZINC_ATOM_TYPES = 28
ZINC_BOND_TYPES = 4  # 0 none, 1 single, 2 double, 3 triple
PPI_FILES = tuple(f"{split}_{part}" for split in ("train", "valid", "test")
                  for part in ("feats.npy", "graph_id.npy", "graph.json", "labels.npy"))
MNIST_SUPERPIXELS_FILES = ("MNISTSuperpixels.pt",)
MNIST_SUPERPIXELS_SIZE = 28


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


# -------------------------------------------------------------------------------------------- stand-ins: caching

def _file_digest(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_splits(folder: Path, raw_file: Path, settings: str,
                   build: Callable[[], tuple[list[Data], list[Data], list[Data]]]) -> list[CachedGraphs]:
    """The three splits from ``folder/<key>/``, built by ``build`` first when absent; the key hashes the raw
    file's content and the processing ``settings``. Each file is written to a temporary name and renamed, so a
    concurrent reader sees a whole file or none."""
    key = hashlib.sha1(f"{_file_digest(raw_file)}|{settings}".encode()).hexdigest()[:16]
    target = folder / key
    paths = [target / f"{split}.pt" for split in ("train", "val", "test")]
    if not all(path.is_file() for path in paths):
        target.mkdir(parents=True, exist_ok=True)
        for graphs, path in zip(build(), paths):
            handle, temporary = tempfile.mkstemp(dir=target, suffix=".tmp")
            os.close(handle)
            InMemoryDataset.save(graphs, temporary)
            os.replace(temporary, path)
    return [CachedGraphs(path) for path in paths]


def _split_sizes(total: int, sizes: Sequence[int], name: str) -> None:
    if sum(sizes) > total:
        raise ValueError(f"{name}: splits of {list(sizes)} need {sum(sizes)} items, the raw file has {total}")


# ------------------------------------------------------------------------------------------- stand-in: zinc-moses

MOSES_FILE = ("moses", "test.csv.gz")
ZINC_MOSES_SIZES = (10_000, 1_000, 1_000)
ZINC_MOSES_SEED = 0

# (element, formal charge, aromatic): the node types of zinc-moses. MOSES keeps only uncharged molecules of C, N,
# O, S, F, Cl, Br (with H); the table also holds the charged and other-element types of ZINC's atom vocabulary so
# that other molecules map onto it, and one last "other" type for anything else.
MOLECULE_ATOM_TYPES: tuple[tuple[str, int, bool], ...] = (
    ("C", 0, False), ("C", 0, True), ("N", 0, False), ("N", 0, True), ("O", 0, False), ("O", 0, True),
    ("F", 0, False), ("S", 0, False), ("S", 0, True), ("Cl", 0, False), ("Br", 0, False), ("I", 0, False),
    ("P", 0, False), ("N", 1, False), ("N", 1, True), ("N", -1, False), ("O", -1, False), ("O", 1, False),
    ("S", 1, False), ("S", -1, False), ("P", 1, False), ("C", -1, False),
)
OTHER_ATOM_TYPE = len(MOLECULE_ATOM_TYPES)
MOLECULE_ATOM_VOCABULARY = len(MOLECULE_ATOM_TYPES) + 1
MOLECULE_BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
_ATOM_INDEX = {atom: index for index, atom in enumerate(MOLECULE_ATOM_TYPES)}


@functools.cache
def sa_scorer() -> ModuleType:
    """RDKit's synthetic-accessibility scorer (Ertl & Schuffenhauer, 2009), ``Contrib/SA_Score/sascorer.py``, with
    the fragment scores ``fpscores.pkl.gz`` shipped beside it in the rdkit wheel (loaded once per process)."""
    from rdkit.Chem import RDConfig

    path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
    if not path.is_file():
        raise ModuleNotFoundError(f"rdkit: the SA score module {path} is missing from this rdkit installation")
    spec = importlib.util.spec_from_file_location("sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.readFragmentScores()
    return module


def penalised_logp(molecule, scorer: ModuleType) -> float:
    """y = Crippen logP − SA score − (number of rings with more than six atoms), the target of ZINC (Table 4)."""
    from rdkit.Chem import Crippen

    large_rings = sum(1 for ring in molecule.GetRingInfo().AtomRings() if len(ring) > 6)
    return Crippen.MolLogP(molecule) - scorer.calculateScore(molecule) - large_rings


def molecule_graph(smiles: str, scorer: ModuleType) -> Data:
    """A molecule as a graph of its heavy atoms: ``x`` [n, 1] atom types (:data:`MOLECULE_ATOM_TYPES`),
    ``edge_index`` both directions of every bond, ``edge_attr`` [2B] bond types (:data:`MOLECULE_BOND_TYPES`),
    ``y`` [1] penalised logP, and the ``smiles``."""
    from rdkit import Chem

    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"smiles: RDKit cannot parse {smiles!r}")
    types = [_ATOM_INDEX.get((atom.GetSymbol(), atom.GetFormalCharge(), atom.GetIsAromatic()), OTHER_ATOM_TYPE)
             for atom in molecule.GetAtoms()]
    pairs, bond_types = [], []
    for bond in molecule.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        kind = MOLECULE_BOND_TYPES.index(str(bond.GetBondType()))
        pairs += [(a, b), (b, a)]
        bond_types += [kind, kind]
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return Data(x=torch.tensor(types, dtype=torch.long).view(-1, 1), edge_index=edge_index,
                edge_attr=torch.tensor(bond_types, dtype=torch.long),
                y=torch.tensor([penalised_logp(molecule, scorer)], dtype=torch.float), smiles=smiles)


def read_smiles(path: Path) -> list[str]:
    with gzip.open(path, "rt", newline="") as handle:
        return [row["SMILES"] for row in csv.DictReader(handle)]


def build_zinc_moses(path: Path, sizes: Sequence[int] = ZINC_MOSES_SIZES,
                     seed: int = ZINC_MOSES_SEED) -> tuple[list[Data], list[Data], list[Data]]:
    """``sum(sizes)`` molecules drawn without replacement by ``numpy.random.default_rng(seed)`` from the SMILES
    file, as graphs (:func:`molecule_graph`), cut in draw order into train, validation and test."""
    smiles = read_smiles(path)
    _split_sizes(len(smiles), sizes, "zinc-moses")
    drawn = np.random.default_rng(seed).choice(len(smiles), sum(sizes), replace=False)
    scorer = sa_scorer()
    graphs = [molecule_graph(smiles[i], scorer) for i in drawn.tolist()]
    first, second = sizes[0], sizes[0] + sizes[1]
    return graphs[:first], graphs[first:second], graphs[second:]


def load_zinc_moses(root: Path) -> GraphDataset:
    """The offline stand-in for ZINC 12k (see docs/graph_datasets.md): 12,000 MOSES molecules, penalised logP."""
    path = root.joinpath(*MOSES_FILE)
    _require("zinc-moses", path.parent, [path.name], "the MOSES test split, one column SMILES")
    settings = f"zinc-moses|v1|{ZINC_MOSES_SIZES}|{ZINC_MOSES_SEED}|{MOLECULE_ATOM_TYPES}|{MOLECULE_BOND_TYPES}"
    train, val, test = _cached_splits(cache_root(root) / "zinc-moses", path, settings,
                                      lambda: build_zinc_moses(path, ZINC_MOSES_SIZES, ZINC_MOSES_SEED))
    return GraphDataset("zinc-moses", train, val, test, "regression", num_features=1, num_classes=1,
                        atom_vocabulary=MOLECULE_ATOM_VOCABULARY, edge_vocabulary=len(MOLECULE_BOND_TYPES),
                        stand_in_for="zinc")


# ---------------------------------------------------------------------------------- stand-in: mnist5k-superpixels

MNIST5K_FILE = ("mnist5k", "mnist_5k.csv.gz")
MNIST5K_SIZES = (4_000, 500, 500)
MNIST5K_SEED = 0
MAX_SUPERPIXELS = 75
SLIC_COMPACTNESS = 0.25
NEIGHBOURS = 8


def superpixels(image: np.ndarray, max_segments: int = MAX_SUPERPIXELS) -> np.ndarray:
    """SLIC superpixel labels 0..K−1 (K ≤ ``max_segments``) of a grayscale image in [0, 1].

    SLIC's ``n_segments`` is a target, not a bound, so it is lowered by the excess until K ≤ ``max_segments``.
    """
    from skimage.segmentation import slic

    target = max_segments
    while True:
        labels = slic(image, n_segments=target, compactness=SLIC_COMPACTNESS, channel_axis=None, start_label=0)
        labels = np.unique(labels, return_inverse=True)[1].reshape(image.shape)
        count = int(labels.max()) + 1
        if count <= max_segments:
            return labels
        target -= count - max_segments


def knn_edges(points: np.ndarray, k: int = NEIGHBOURS) -> Tensor:
    """Edges j → i from each point's k nearest other points (Euclidean; fewer when there are fewer points)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(points) - 1)
    if k < 1:
        return torch.empty(2, 0, dtype=torch.long)
    _, nearest = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    targets = np.repeat(np.arange(len(points)), k)
    sources = np.array([[j for j in row if j != i][:k] for i, row in enumerate(nearest)]).reshape(-1)
    return torch.from_numpy(np.stack([sources, targets])).long()


def digit_graph(pixels: np.ndarray, label: int) -> Data:
    """A 28×28 digit (values 0–255) as a superpixel graph: ``x`` [K, 3] = mean intensity in [0, 1] and centroid
    (row, column)/28, ``pos`` the centroid in pixels, k-NN edges (k = 8) between centroids, ``y`` [1] the digit."""
    image = pixels.reshape(MNIST_SUPERPIXELS_SIZE, MNIST_SUPERPIXELS_SIZE).astype(np.float64) / 255.0
    labels = superpixels(image).reshape(-1)
    count = int(labels.max()) + 1
    rows, columns = np.divmod(np.arange(labels.size), MNIST_SUPERPIXELS_SIZE)
    sizes = np.bincount(labels, minlength=count)
    intensity = np.bincount(labels, image.reshape(-1), count) / sizes
    centroid = np.stack([np.bincount(labels, rows, count), np.bincount(labels, columns, count)], 1) / sizes[:, None]
    x = np.concatenate([intensity[:, None], centroid / MNIST_SUPERPIXELS_SIZE], 1)
    return Data(x=torch.from_numpy(x).float(), pos=torch.from_numpy(centroid).float(),
                edge_index=knn_edges(centroid), y=torch.tensor([label], dtype=torch.long))


def read_digits(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(pixels [n, 784], labels [n]) from a headerless CSV of 784 pixel columns and the label."""
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != MNIST_SUPERPIXELS_SIZE ** 2 + 1:
        raise ValueError(f"{path}: expected 785 columns (784 pixels, then the label), got {table.shape[1]}")
    return table[:, :-1], table[:, -1]


def build_mnist5k_superpixels(path: Path, sizes: Sequence[int] = MNIST5K_SIZES,
                              seed: int = MNIST5K_SEED) -> tuple[list[Data], list[Data], list[Data]]:
    """The digits as superpixel graphs (:func:`digit_graph`), permuted by ``numpy.random.default_rng(seed)`` and
    cut into train, validation and test."""
    pixels, labels = read_digits(path)
    _split_sizes(len(labels), sizes, "mnist5k-superpixels")
    order = np.random.default_rng(seed).permutation(len(labels))[:sum(sizes)]
    graphs = [digit_graph(pixels[i], int(labels[i])) for i in order.tolist()]
    first, second = sizes[0], sizes[0] + sizes[1]
    return graphs[:first], graphs[first:second], graphs[second:]


def load_mnist5k_superpixels(root: Path) -> GraphDataset:
    """The offline stand-in for MNIST-75 (see docs/graph_datasets.md): 5,000 real digits as SLIC superpixel graphs."""
    path = root.joinpath(*MNIST5K_FILE)
    _require("mnist5k-superpixels", path.parent, [path.name], "5,000 MNIST digits, 784 pixel columns and the label")
    settings = f"mnist5k|v1|{MNIST5K_SIZES}|{MNIST5K_SEED}|{MAX_SUPERPIXELS}|{SLIC_COMPACTNESS}|{NEIGHBOURS}"
    train, val, test = _cached_splits(cache_root(root) / "mnist5k-superpixels", path, settings,
                                      lambda: build_mnist5k_superpixels(path, MNIST5K_SIZES, MNIST5K_SEED))
    return GraphDataset("mnist5k-superpixels", train, val, test, "classification", num_features=3, num_classes=10,
                        stand_in_for="mnist-superpixels")


GRAPH_DATASETS: dict[str, Callable[[Path], GraphDataset]] = {
    "zinc": load_zinc,
    "ppi": load_ppi,
    "mnist-superpixels": load_mnist_superpixels,
    "zinc-moses": load_zinc_moses,
    "mnist5k-superpixels": load_mnist5k_superpixels,
}


def load_graph_dataset(name: str, data_root: str | Path | None = None) -> GraphDataset:
    """The graph-level dataset ``name`` (:data:`GRAPH_DATASETS`) from the data root (``$GRAPHCON_DATA`` if None).

    Raises:
        MissingDatasetError: its raw files are absent; the message lists them and the folder they belong in.
    """
    if name not in GRAPH_DATASETS:
        raise ValueError(f"name: unknown graph dataset {name!r}; known: {', '.join(GRAPH_DATASETS)}")
    return GRAPH_DATASETS[name](resolve_data_root(data_root))
