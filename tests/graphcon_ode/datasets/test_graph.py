import json
import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from networkx.readwrite import json_graph
from torch_geometric.datasets import PPI, ZINC, MNISTSuperpixels

from graphcon_ode.datasets import MissingDatasetError
from graphcon_ode.datasets.graph import GRAPH_DATASETS, load_graph_dataset

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def offline(monkeypatch):
    """Any download attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    for loader in (ZINC, PPI, MNISTSuperpixels):
        monkeypatch.setattr(loader, "download", refuse)

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


def test_the_graph_dataset_registry_refuses_a_silent_overwrite():
    with pytest.raises(KeyError, match="graph dataset .*zinc.* is registered already"):
        GRAPH_DATASETS["zinc"] = GRAPH_DATASETS["ppi"]
    assert GRAPH_DATASETS["zinc"].__name__ == "load_zinc"
