import shutil
import stat
from collections import deque

import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.datasets import Actor, Planetoid, WebKB

from graphcon_ode.datasets import (
    DATASETS,
    MissingDatasetError,
    geom_gcn_split,
    largest_connected_component,
    load_dataset,
    random_split,
    resolve_data_root,
)

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture
def offline(monkeypatch):
    """Any download attempt fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    for loader in (Planetoid, WebKB, Actor):
        monkeypatch.setattr(loader, "download", refuse)


def need(data_root, name):
    folder = data_root / DATASETS[name].folder / "raw"
    if not folder.is_dir():
        pytest.skip(f"offline data root has no {folder} (set GRAPHCON_DATA to the raw datasets)")


def components(num_nodes, edge_index):
    """Connected components by breadth-first search over the undirected edges."""
    neighbours = [[] for _ in range(num_nodes)]
    for a, b in edge_index.t().tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    label, count = [-1] * num_nodes, 0
    for start in range(num_nodes):
        if label[start] >= 0:
            continue
        label[start], queue = count, deque([start])
        while queue:
            for nxt in neighbours[queue.popleft()]:
                if label[nxt] < 0:
                    label[nxt] = count
                    queue.append(nxt)
        count += 1
    return label, count


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_random_split_sizes_disjointness_and_class_counts(seed):
    y = torch.arange(3000) % 7
    train, val, test = random_split(y, seed)
    assert (train.sum(), val.sum(), test.sum()) == (140, 1500 - 140, 1500)
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()
    assert (train | val | test).all()
    assert torch.bincount(y[train], minlength=7).tolist() == [20] * 7


def test_random_split_is_determined_by_its_seed():
    y = torch.arange(2500) % 5
    first, again, other = random_split(y, 3), random_split(y, 3), random_split(y, 4)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0]) and not torch.equal(first[2], other[2])


def test_random_split_takes_all_development_nodes_of_a_rare_class():
    y = torch.zeros(2000, dtype=torch.long)
    y[:5] = 1
    train, val, _ = random_split(y, 0, num_development=2000)
    assert int(train[:5].sum()) == 5 and int((y[train] == 0).sum()) == 20 and int(val.sum()) == 1975


def test_random_split_rejects_bad_sizes():
    with pytest.raises(ValueError, match="num_development"):
        random_split(torch.zeros(10, dtype=torch.long), 0, num_development=11)
    with pytest.raises(ValueError, match="per_class"):
        random_split(torch.zeros(10, dtype=torch.long), 0, num_development=5, per_class=0)


def test_largest_component_of_a_small_graph():
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 6], [1, 0, 2, 1, 4, 3, 6, 5]])
    edge_index = torch.cat([edge_index, torch.tensor([[4, 6], [6, 4]])], dim=1)
    data = Data(x=torch.arange(8.0)[:, None], edge_index=edge_index, y=torch.arange(8),
                train_mask=torch.ones(8, dtype=torch.bool))
    lcc = largest_connected_component(data)
    assert lcc.num_nodes == 4 and lcc.x.squeeze().tolist() == [3.0, 4.0, 5.0, 6.0]
    assert lcc.y.tolist() == [3, 4, 5, 6] and lcc.train_mask.shape == (4,)
    assert sorted(map(tuple, lcc.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 3), (2, 3), (3, 1), (3, 2)]


@pytest.mark.parametrize("name, nodes", [("cora", 2485), ("citeseer", 2120)])
def test_largest_component_of_the_citation_graphs(data_root, offline, name, nodes):
    need(data_root, name)
    data = load_dataset(name, data_root)
    full_labels, _ = components(data.num_nodes, data.edge_index)
    lcc = largest_connected_component(data)
    assert lcc.num_nodes == nodes == max(np.bincount(full_labels))
    assert components(lcc.num_nodes, lcc.edge_index)[1] == 1
    train, val, test = random_split(lcc.y, 0)
    classes = int(lcc.y.max()) + 1
    assert (int(train.sum()), int(val.sum()), int(test.sum())) == (20 * classes, 1500 - 20 * classes, nodes - 1500)


def test_geom_gcn_splits_are_the_raw_files(data_root, offline):
    need(data_root, "texas")
    data = load_dataset("texas", data_root)
    assert (data.num_nodes, data.num_features, int(data.y.max()) + 1) == (183, 1703, 5)
    for index in (0, 9):
        masks = geom_gcn_split(data, index)
        raw = np.load(data_root / "texas" / "raw" / f"texas_split_0.6_0.2_{index}.npz")
        for mask, name in zip(masks, ("train_mask", "val_mask", "test_mask")):
            assert mask.tolist() == raw[name].astype(bool).tolist()
        assert not (masks[0] & masks[1]).any() and not (masks[1] & masks[2]).any()
    with pytest.raises(ValueError, match="index"):
        geom_gcn_split(data, 10)


def test_read_only_root_is_processed_into_the_cache(data_root, offline, tmp_path, private_cache):
    need(data_root, "cornell")
    root = tmp_path / "root"
    shutil.copytree(data_root / "cornell", root / "cornell")
    for path in [root, root / "cornell", root / "cornell" / "raw"]:
        path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        data = load_dataset("cornell", root)
    finally:
        for path in [root, root / "cornell", root / "cornell" / "raw"]:
            path.chmod(stat.S_IRWXU)
    assert data.num_nodes == 183
    assert sorted(p.name for p in (root / "cornell").iterdir()) == ["raw"]
    assert list(private_cache.glob("*/*/cornell/processed/*.pt")), "under <root id>/<raw content key>/"


def test_missing_files_raise_one_clear_error(tmp_path, offline):
    (tmp_path / "texas" / "raw").mkdir(parents=True)
    (tmp_path / "texas" / "raw" / "out1_graph_edges.txt").write_text("")
    with pytest.raises(MissingDatasetError) as error:
        load_dataset("texas", tmp_path)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    assert str(tmp_path / "texas" / "raw") in message and "out1_node_feature_label.txt" in message
    assert "texas_split_0.6_0.2_9.npz" in message and "out1_graph_edges.txt," not in message


def test_pubmed_is_supported_but_says_which_files_are_missing(tmp_path, offline):
    with pytest.raises(MissingDatasetError, match=r"ind\.pubmed\.allx.*PubMed/raw"):
        load_dataset("pubmed", tmp_path)


def test_data_root_from_environment_or_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHCON_DATA", str(tmp_path))
    assert resolve_data_root() == tmp_path
    monkeypatch.delenv("GRAPHCON_DATA")
    with pytest.raises(ValueError, match="GRAPHCON_DATA"):
        resolve_data_root()
    with pytest.raises(ValueError, match="name: unknown dataset"):
        load_dataset("ogbn", tmp_path)


def test_the_dataset_registry_refuses_a_silent_overwrite():
    with pytest.raises(KeyError, match="dataset .*cora.* is registered already"):
        DATASETS["cora"] = DATASETS["citeseer"]
    assert DATASETS["cora"].folder == "Cora"
    assert list(DATASETS)[-2:] == ["chameleon-filtered", "squirrel-filtered"]
