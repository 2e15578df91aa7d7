"""Node-classification datasets from raw files on disk, through PyG's own loaders, and the paper's split protocols.

Raw files live under a data root (``--data-root`` or ``$GRAPHCON_DATA``), laid out as PyG expects them:

    ROOT/Cora/raw/ind.cora.{x,tx,allx,y,ty,ally,graph,test.index}        Planetoid(ROOT, "Cora")
    ROOT/CiteSeer/raw/ind.citeseer.*   ROOT/PubMed/raw/ind.pubmed.*      Planetoid
    ROOT/{texas,wisconsin,cornell}/raw/out1_*.txt + NAME_split_0.6_0.2_{0..9}.npz   WebKB
    ROOT/actor/raw/out1_*.txt + film_split_0.6_0.2_{0..9}.npz           Actor
    ROOT/{minesweeper,tolokers,roman_empire,amazon_ratings,questions}/raw/FOLDER.npz   HeterophilousGraphDataset

The root is only read. The raw files are linked into a cache root of the library's own (``$GRAPHCON_CACHE``, else
``~/.cache/graphcon-ode``; one subfolder per data root) and PyG writes its ``processed/`` files there. Every raw file
is checked before PyG is called, so a missing file raises :class:`MissingDatasetError` naming the files and the
folder to put them in, and no download is ever attempted.

Split protocols:

- :func:`random_split` with :func:`largest_connected_component`: Table 1 (the protocol of Shchur et al. (2018) as
  used by GRAND): on the largest connected component, a development set of 1500 nodes is drawn at random and every
  other node is a test node; from the development set, 20 nodes of each class are drawn for training and the rest
  of the development set validates. A split is fully determined by its seed.
- :func:`geom_gcn_split`: Table 2, the 10 fixed train/validation/test splits of Pei et al. (2020) shipped with the
  WebKB raw files (60/20/20 % per class).
- The heterophilous sets of Platonov et al. (2023) carry their own 10 fixed splits (50/25/25 %) in the ``.npz``;
  PyG stores them as [N, 10] masks, so :func:`geom_gcn_split` picks split i of these too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.datasets import Actor, HeterophilousGraphDataset, Planetoid, WebKB


GEOM_GCN_SPLITS = 10


class MissingDatasetError(FileNotFoundError):
    """Raw files of a dataset are not under the data root."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset's raw files live under the data root and how PyG loads them from a root holding them."""

    folder: str
    raw_files: tuple[str, ...]
    loader: str
    load: Callable[[str], Data]


def _planetoid(name: str) -> DatasetSpec:
    parts = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
    return DatasetSpec(name, tuple(f"ind.{name.lower()}.{part}" for part in parts), f"Planetoid(root, {name!r})",
                       lambda root: Planetoid(root, name)[0])


def _geom_gcn_files(prefix: str) -> tuple[str, ...]:
    return ("out1_node_feature_label.txt", "out1_graph_edges.txt") + tuple(
        f"{prefix}_split_0.6_0.2_{i}.npz" for i in range(GEOM_GCN_SPLITS))


def _webkb(name: str) -> DatasetSpec:
    return DatasetSpec(name, _geom_gcn_files(name), f"WebKB(root, {name!r})",
                       lambda root: WebKB(root, name)[0])


def _heterophilous(name: str) -> DatasetSpec:
    folder = name.replace("-", "_")  # PyG's folder and file name for "roman-empire" is "roman_empire"
    return DatasetSpec(folder, (f"{folder}.npz",), f"HeterophilousGraphDataset(root, {name!r})",
                       lambda root: HeterophilousGraphDataset(root, name)[0])


DATASETS: dict[str, DatasetSpec] = {
    "cora": _planetoid("Cora"),
    "citeseer": _planetoid("CiteSeer"),
    "pubmed": _planetoid("PubMed"),
    "texas": _webkb("texas"),
    "wisconsin": _webkb("wisconsin"),
    "cornell": _webkb("cornell"),
    "actor": DatasetSpec("actor", _geom_gcn_files("film"), "Actor(root + '/actor')",
                         lambda root: Actor(os.path.join(root, "actor"))[0]),
    **{name: _heterophilous(name) for name in ("minesweeper", "tolokers", "roman-empire", "amazon-ratings",
                                                "questions")},
}


def resolve_data_root(data_root: str | Path | None = None) -> Path:
    """The data root: ``data_root`` if given, else ``$GRAPHCON_DATA``."""
    if data_root is None:
        data_root = os.environ.get("GRAPHCON_DATA")
    if not data_root:
        raise ValueError("data_root: no data root given; pass --data-root DIR or set GRAPHCON_DATA=DIR")
    return Path(data_root).expanduser()


def cache_root(data_root: Path) -> Path:
    """The library's own cache for ``data_root``: ``$GRAPHCON_CACHE`` (else ``~/.cache/graphcon-ode``)/<root id>."""
    base = Path(os.environ.get("GRAPHCON_CACHE") or Path.home() / ".cache" / "graphcon-ode").expanduser()
    root_id = hashlib.sha1(str(data_root.resolve()).encode()).hexdigest()[:12]
    return base / root_id


def raw_folder(name: str, data_root: str | Path | None = None) -> Path:
    """The folder that must hold the raw files of dataset ``name``."""
    return resolve_data_root(data_root) / _spec(name).folder / "raw"


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"name: unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def _link_raw_files(source: Path, target: Path, files: tuple[str, ...]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        link = target / file
        if link.exists():
            continue
        link.unlink(missing_ok=True)  # a dangling link left by a moved data root
        try:
            link.symlink_to((source / file).resolve())
        except FileExistsError:  # another process linked it first
            pass


def check_raw_files(name: str, data_root: str | Path | None = None) -> Path:
    """The raw folder of dataset ``name``; :class:`MissingDatasetError` naming the absent files and the folder."""
    spec = _spec(name)
    raw = resolve_data_root(data_root) / spec.folder / "raw"
    missing = [file for file in spec.raw_files if not (raw / file).is_file()]
    if missing:
        raise MissingDatasetError(
            f"{name}: {len(missing)} raw file(s) missing: {', '.join(missing)}. Put them in {raw} "
            f"(the raw files of PyG's {spec.loader}; nothing is downloaded)")
    return raw


def content_key(folder: Path, files: tuple[str, ...]) -> str:
    """A hash of the names and bytes of ``files`` in ``folder``: the processed cache is keyed by it, so a changed or
    restored raw file is processed afresh instead of meeting a stale cache."""
    digest = hashlib.sha1()
    for file in files:
        digest.update(file.encode() + b"\0")
        with open(folder / file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


class DatasetParseError(ValueError):
    """Raw files of a dataset are present but do not parse into a consistent graph; the message names the file."""


def _file_being_read(error: BaseException, raw: Path, files: tuple[str, ...]) -> str | None:
    """The raw file that the innermost frame of ``error``'s traceback was reading, when one names it."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        for value in traceback.tb_frame.f_locals.values():
            if isinstance(value, (str, os.PathLike)):
                text = os.fspath(value)
                for file in files:
                    if text.endswith(file) or text == file.split(".")[-1]:
                        found = file
        traceback = traceback.tb_next
    return found or next((file for file in files if file in str(error)), None)


def check_consistent(name: str, data: Data, raw: Path, files: tuple[str, ...]) -> None:
    """:class:`DatasetParseError` unless edges, labels and masks all refer to the graph's own nodes (a truncated
    raw file parses into fewer nodes than the edges mention)."""
    n = data.num_nodes
    problems = []
    if data.edge_index.numel() and int(data.edge_index.max()) >= n:
        problems.append(f"edges refer to node {int(data.edge_index.max())} of {n} nodes")
    for key in ("y", "train_mask", "val_mask", "test_mask"):
        value = getattr(data, key, None)
        if value is not None and value.shape[0] != n:
            problems.append(f"{key} has {value.shape[0]} rows for {n} nodes")
    if problems:
        sizes = ", ".join(f"{file} ({(raw / file).stat().st_size} bytes)" for file in files)
        raise DatasetParseError(f"{name}: the raw files in {raw} do not make one graph ({'; '.join(problems)}); a "
                                f"file is truncated or corrupt. Files: {sizes}")


def load_dataset(name: str, data_root: str | Path | None = None) -> Data:
    """The graph of dataset ``name`` as PyG loads it (with its public or geom-gcn masks).

    The processed files go to the cache root under a key of the raw files' content (:func:`content_key`).

    Raises:
        MissingDatasetError: some raw files are absent; the message lists them and the folder they belong in.
        DatasetParseError: a raw file does not parse, or the files do not make one graph; the message names it.
    """
    spec = _spec(name)
    root = resolve_data_root(data_root)
    raw = check_raw_files(name, root)
    cache = cache_root(root) / content_key(raw, spec.raw_files)
    _link_raw_files(raw, cache / spec.folder / "raw", spec.raw_files)
    try:
        data = spec.load(str(cache))
    except Exception as error:
        file = _file_being_read(error, raw, spec.raw_files)
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
