import gzip
import json
import pickle
import sys

import networkx as nx
import numpy as np
import pytest
import torch
from networkx.readwrite import json_graph
from rdkit import Chem
from rdkit.Chem import Crippen, RDConfig
from torch_geometric.datasets import PPI, ZINC, MNISTSuperpixels
from torch_geometric.loader import DataLoader

from graphcon_ode.datasets import graph as graph_datasets
from graphcon_ode.datasets import MissingDatasetError
from graphcon_ode.datasets.graph import (
    GRAPH_DATASETS,
    MOLECULE_ATOM_TYPES,
    build_mnist5k_superpixels,
    build_zinc_moses,
    digit_graph,
    load_graph_dataset,
    molecule_graph,
    sa_scorer,
    superpixels,
)

pytestmark = pytest.mark.usefixtures("private_cache")

# aromatic rings, a seven-membered ring, a charged amine and carboxylate, a nitrile, halogens, an iodide
SMILES = ["c1ccccc1O", "C1CCCCCC1C(=O)O", "C[N+](C)(C)CC(=O)[O-]", "N#Cc1ccc(Cl)cc1Br", "CC(C)(C)c1ccsc1",
          "O=C1CCCCCCC1", "Ic1ccc2[nH]ccc2c1", "CSC(=O)c1ccco1", "FC(F)(F)C1CC1", "CCOC(=O)C1CCN(C)CC1",
          "c1ccc2ncccc2c1", "OCC1OC(O)C(O)C1O"]


@pytest.fixture
def offline(monkeypatch):
    """Any download attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    for loader in (ZINC, PPI, MNISTSuperpixels):
        monkeypatch.setattr(loader, "download", refuse)


def rdkit_sa_score(molecule):
    sys.path.insert(0, str(RDConfig.RDContribDir) + "/SA_Score")
    try:
        import sascorer
    finally:
        sys.path.pop(0)
    return sascorer.calculateScore(molecule)


@pytest.mark.parametrize("smiles", SMILES)
def test_molecule_graph_has_rdkit_atoms_bonds_and_penalised_logp(smiles):
    molecule = Chem.MolFromSmiles(smiles)
    graph = molecule_graph(smiles, sa_scorer())
    assert graph.num_nodes == molecule.GetNumAtoms()
    assert graph.edge_index.shape[1] == graph.edge_attr.numel() == 2 * molecule.GetNumBonds()
    for a, b in graph.edge_index.t().tolist():
        assert molecule.GetBondBetweenAtoms(a, b) is not None
    for atom, kind in zip(molecule.GetAtoms(), graph.x[:, 0].tolist()):
        assert MOLECULE_ATOM_TYPES[kind] == (atom.GetSymbol(), atom.GetFormalCharge(), atom.GetIsAromatic())
    large_rings = sum(len(ring) > 6 for ring in molecule.GetRingInfo().AtomRings())
    expected = Crippen.MolLogP(molecule) - rdkit_sa_score(molecule) - large_rings
    assert graph.y.item() == pytest.approx(expected, abs=1e-5)


def test_phenol_types_and_bonds_written_out():
    graph = molecule_graph("c1ccccc1O", sa_scorer())
    aromatic_carbon, oxygen = MOLECULE_ATOM_TYPES.index(("C", 0, True)), MOLECULE_ATOM_TYPES.index(("O", 0, False))
    assert graph.x[:, 0].tolist() == [aromatic_carbon] * 6 + [oxygen]
    assert sorted(graph.edge_attr.tolist()) == [0, 0] + [3] * 12  # one single C–O bond, six aromatic ring bonds
    assert graph.y.item() == pytest.approx(Crippen.MolLogP(Chem.MolFromSmiles("c1ccccc1O"))
                                           - rdkit_sa_score(Chem.MolFromSmiles("c1ccccc1O")), abs=1e-5)


def write_smiles(path, smiles):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        handle.write("SMILES\n" + "\n".join(smiles) + "\n")


def test_zinc_moses_draws_disjoint_splits_by_its_seed(tmp_path):
    path = tmp_path / "moses" / "test.csv.gz"
    write_smiles(path, SMILES)
    train, val, test = build_zinc_moses(path, sizes=(6, 3, 2), seed=0)
    drawn = [g.smiles for g in train + val + test]
    assert (len(train), len(val), len(test)) == (6, 3, 2)
    assert len(set(drawn)) == 11 and set(drawn) <= set(SMILES)
    assert [g.smiles for g in build_zinc_moses(path, sizes=(6, 3, 2), seed=0)[0]] == drawn[:6]
    assert [g.smiles for g in build_zinc_moses(path, sizes=(6, 3, 2), seed=1)[0]] != drawn[:6]
    with pytest.raises(ValueError, match="zinc-moses"):
        build_zinc_moses(path)


def test_zinc_moses_is_cached_and_rebuilt_when_the_raw_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "moses" / "test.csv.gz"
    write_smiles(path, SMILES)
    monkeypatch.setattr(graph_datasets, "ZINC_MOSES_SIZES", (6, 3, 3))
    builds = []
    build = graph_datasets.build_zinc_moses
    monkeypatch.setattr(graph_datasets, "build_zinc_moses", lambda *a: builds.append(1) or build(*a))
    first = load_graph_dataset("zinc-moses", tmp_path)
    again = load_graph_dataset("zinc-moses", tmp_path)
    assert len(builds) == 1
    assert (first.task, first.metric, first.level, first.stand_in_for) == ("regression", "mae", "graph", "zinc")
    assert first.atom_vocabulary == len(MOLECULE_ATOM_TYPES) + 1 and first.edge_vocabulary == 4
    assert [g.smiles for g in again.test] == [g.smiles for g in first.test]
    assert torch.equal(again.train[2].edge_attr, first.train[2].edge_attr)
    batch = next(iter(DataLoader(first.train, batch_size=6)))
    assert batch.num_graphs == 6 and batch.y.shape == (6,)
    write_smiles(path, SMILES[::-1] + ["CCO"])
    changed = load_graph_dataset("zinc-moses", tmp_path)
    assert len(builds) == 2 and len(changed.train) == 6


def write_digits(path, images, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = np.concatenate([images.reshape(len(images), -1), np.asarray(labels)[:, None]], 1)
    with gzip.open(path, "wt") as handle:
        np.savetxt(handle, table, fmt="%d", delimiter=",")


def synthetic_digits(count, seed=0):
    """Blobs of ink on a 28×28 canvas, a stand-in for handwriting with the same value range."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[:28, :28]
    images = []
    for _ in range(count):
        image = np.zeros((28, 28))
        for _ in range(3):
            r, c = rng.uniform(6, 22, 2)
            image += np.exp(-((rows - r) ** 2 + (columns - c) ** 2) / rng.uniform(4, 20))
        images.append(np.clip(255 * image, 0, 255).astype(int))
    return np.stack(images), list(rng.integers(0, 10, count))


def check_superpixel_graph(graph, pixels):
    image = pixels.reshape(28, 28) / 255.0
    count = graph.num_nodes
    assert 1 < count <= 75
    assert graph.x.shape == (count, 3) and graph.pos.shape == (count, 2)
    assert ((graph.x >= 0) & (graph.x <= 1)).all()
    assert torch.bincount(graph.edge_index[1], minlength=count).tolist() == [min(8, count - 1)] * count
    assert torch.bincount(graph.edge_index[0], minlength=count).min() > 0  # no isolated node
    assert (graph.edge_index[0] != graph.edge_index[1]).all()
    # node 0's sources are its nearest centroids, found here by brute force
    distances = (graph.pos - graph.pos[0]).norm(dim=1)
    distances[0] = float("inf")
    sources = graph.edge_index[0, graph.edge_index[1] == 0]
    assert distances[sources].max() <= distances.sort().values[min(8, count - 1) - 1] + 1e-6
    labels = superpixels(image)
    assert labels.max() + 1 == count
    rows, columns = np.mgrid[:28, :28]
    for k in range(count):
        inside = labels == k
        assert graph.x[k, 0].item() == pytest.approx(image[inside].mean(), abs=1e-6)
        assert graph.pos[k].tolist() == pytest.approx([rows[inside].mean(), columns[inside].mean()], abs=1e-5)
        assert graph.x[k, 1:].tolist() == pytest.approx([rows[inside].mean() / 28, columns[inside].mean() / 28],
                                                        abs=1e-6)


def test_digit_graph_superpixels_cover_the_image(tmp_path):
    images, labels = synthetic_digits(4)
    for pixels, label in zip(images, labels):
        graph = digit_graph(pixels, label)
        check_superpixel_graph(graph, pixels)
        assert graph.y.tolist() == [label]


def test_digit_graphs_of_real_digits(data_root):
    path = data_root / "mnist5k" / "mnist_5k.csv.gz"
    if not path.is_file():
        pytest.skip(f"offline data root has no {path}")
    with gzip.open(path, "rt") as handle:
        table = np.array([[int(v) for v in next(handle).split(",")] for _ in range(6)])
    for row in table:
        graph = digit_graph(row[:-1], int(row[-1]))
        check_superpixel_graph(graph, row[:-1])


def test_mnist5k_superpixels_builds_caches_and_splits(tmp_path, monkeypatch):
    path = tmp_path / "mnist5k" / "mnist_5k.csv.gz"
    images, labels = synthetic_digits(10)
    write_digits(path, images, labels)
    train, val, test = build_mnist5k_superpixels(path, sizes=(6, 2, 2), seed=0)
    assert (len(train), len(val), len(test)) == (6, 2, 2)
    assert sorted(int(g.y) for g in train + val + test) == sorted(labels)
    monkeypatch.setattr(graph_datasets, "MNIST5K_SIZES", (6, 2, 2))
    dataset = load_graph_dataset("mnist5k-superpixels", tmp_path)
    assert (dataset.task, dataset.metric, dataset.num_features, dataset.num_classes) == (
        "classification", "accuracy", 3, 10)
    assert dataset.stand_in_for == "mnist-superpixels"
    assert [torch.equal(a.x, b.x) for a, b in zip(dataset.train, train)] == [True] * 6
    with pytest.raises(ValueError, match="mnist5k-superpixels"):
        build_mnist5k_superpixels(path)


def write_zinc(raw):
    raw.mkdir(parents=True)
    molecules = []
    for n in (3, 4, 5):
        bonds = torch.zeros(n, n, dtype=torch.long)
        for i in range(n - 1):
            bonds[i, i + 1] = bonds[i + 1, i] = 1 + i % 2
        molecules.append({"atom_type": torch.arange(n) % 3, "bond_type": bonds,
                          "logP_SA_cycle_normalized": torch.tensor([0.5 * n])})
    for split in ("train", "val", "test"):
        with open(raw / f"{split}.pickle", "wb") as handle:
            pickle.dump(molecules, handle)
        (raw / f"{split}.index").write_text("0,2\n")


def test_zinc_loads_a_tiny_raw_folder_in_its_own_format(tmp_path, offline):
    write_zinc(tmp_path / "ZINC" / "raw")
    dataset = load_graph_dataset("zinc", tmp_path)
    assert [len(dataset.train), len(dataset.val), len(dataset.test)] == [2, 2, 2]
    second = dataset.train[1]
    assert second.x[:, 0].tolist() == [0, 1, 2, 0, 1]
    assert second.edge_index.shape[1] == 8 and sorted(second.edge_attr.tolist()) == [1, 1, 1, 1, 2, 2, 2, 2]
    assert second.y.tolist() == [2.5]
    assert (dataset.task, dataset.metric, dataset.atom_vocabulary, dataset.stand_in_for) == (
        "regression", "mae", 28, None)


def write_ppi(raw, rng):
    raw.mkdir(parents=True)
    for split, graphs in (("train", 2), ("valid", 1), ("test", 1)):
        sizes = [4 + g for g in range(graphs)]
        graph, ids, start = nx.Graph(), [], 0
        for g, n in enumerate(sizes):
            graph.add_nodes_from(range(start, start + n))
            graph.add_edges_from((start + i, start + i + 1) for i in range(n - 1))
            ids += [g + 1] * n
            start += n
        with open(raw / f"{split}_graph.json", "w") as handle:
            json.dump(json_graph.node_link_data(graph, edges="links"), handle)
        np.save(raw / f"{split}_feats.npy", rng.standard_normal((start, 50)))
        np.save(raw / f"{split}_labels.npy", rng.integers(0, 2, (start, 121)))
        np.save(raw / f"{split}_graph_id.npy", np.array(ids))


def test_ppi_loads_a_tiny_raw_folder_in_its_own_format(tmp_path, offline):
    write_ppi(tmp_path / "PPI" / "raw", np.random.default_rng(0))
    dataset = load_graph_dataset("ppi", tmp_path)
    assert [len(dataset.train), len(dataset.val), len(dataset.test)] == [2, 1, 1]
    assert (dataset.level, dataset.task, dataset.metric) == ("node", "multilabel", "micro_f1")
    assert (dataset.num_features, dataset.num_classes) == (50, 121)
    assert dataset.train[1].num_nodes == 5 and dataset.train[1].edge_index.shape[1] == 8
    assert dataset.train[1].y.shape == (5, 121)


def test_mnist_superpixels_loads_a_tiny_raw_file_in_its_own_format(tmp_path, offline):
    raw = tmp_path / "MNISTSuperpixels" / "raw"
    raw.mkdir(parents=True)

    def digit(label):
        return {"x": torch.rand(75, 1), "pos": 28 * torch.rand(75, 2),
                "edge_index": torch.stack([torch.arange(75), (torch.arange(75) + 1) % 75]), "y": torch.tensor([label])}

    torch.save(([digit(i % 10) for i in range(24)], [digit(3), digit(4)]), raw / "MNISTSuperpixels.pt")
    dataset = load_graph_dataset("mnist-superpixels", tmp_path)
    assert [len(dataset.train), len(dataset.val), len(dataset.test)] == [22, 2, 2]
    graph = dataset.val[0]
    assert graph.x.shape == (75, 3) and int(graph.y) == 2
    assert torch.allclose(graph.x[:, 1:] * 28, graph.pos)


@pytest.mark.parametrize("name, missing", [
    ("zinc", "train.pickle"), ("ppi", "train_graph.json"), ("mnist-superpixels", "MNISTSuperpixels.pt"),
    ("zinc-moses", "test.csv.gz"), ("mnist5k-superpixels", "mnist_5k.csv.gz"),
])
def test_missing_files_name_the_files_and_the_folder(tmp_path, offline, name, missing):
    with pytest.raises(MissingDatasetError, match=missing) as error:
        load_graph_dataset(name, tmp_path)
    assert str(tmp_path) in str(error.value)
    assert set(GRAPH_DATASETS) == {"zinc", "ppi", "mnist-superpixels", "zinc-moses", "mnist5k-superpixels"}
    with pytest.raises(ValueError, match="name"):
        load_graph_dataset("zinc250k", tmp_path)


@pytest.mark.slow
def test_the_stand_ins_from_the_data_root(data_root):
    if not (data_root / "moses").is_dir():
        pytest.skip(f"offline data root has no {data_root / 'moses'}")
    molecules = load_graph_dataset("zinc-moses", data_root)
    assert [len(molecules.train), len(molecules.val), len(molecules.test)] == [10_000, 1_000, 1_000]
    assert len({g.smiles for split in (molecules.train, molecules.val, molecules.test) for g in split}) == 12_000
    digits = load_graph_dataset("mnist5k-superpixels", data_root)
    assert [len(digits.train), len(digits.val), len(digits.test)] == [4_000, 500, 500]
    assert max(g.num_nodes for g in digits.train) <= 75
