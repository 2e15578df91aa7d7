import numpy as np
import pytest
import torch
from torch_geometric.datasets import HeterophilousGraphDataset
from torch_geometric.utils import is_undirected

from graphcon_ode.datasets import DATASETS, MissingDatasetError, geom_gcn_split, load_dataset
from graphcon_ode.datasets.heterophilous import load_filtered
from graphcon_ode.datasets.node import raw_folder

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(HeterophilousGraphDataset, "download", refuse)


def write_tiny_npz(root, folder, num_nodes=12, seed=0, file=None):
    """A raw file in the authors' format: features, labels, directed edge list [E, 2], masks [10, N]."""
    rng = np.random.default_rng(seed)
    edges = np.array([[i, (i + 1) % num_nodes] for i in range(num_nodes)] + [[0, 5], [3, 9]], dtype=np.int64)
    masks = np.zeros((3, 10, num_nodes), dtype=bool)
    for split in range(10):
        order = rng.permutation(num_nodes)
        masks[0, split, order[:6]] = masks[1, split, order[6:9]] = masks[2, split, order[9:]] = True
    arrays = {"node_features": rng.normal(size=(num_nodes, 3)).astype(np.float32),
              "node_labels": (np.arange(num_nodes) % 3 == 0).astype(np.int64), "edges": edges,
              "train_masks": masks[0], "val_masks": masks[1], "test_masks": masks[2]}
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    np.savez(raw / (file or f"{folder}.npz"), **arrays)
    return arrays


@pytest.mark.parametrize("name, folder", [("minesweeper", "minesweeper"), ("roman-empire", "roman_empire"),
                                          ("questions", "questions")])
def test_tiny_npz_loads_with_its_ten_splits(tmp_path, name, folder):
    arrays = write_tiny_npz(tmp_path, folder)
    assert raw_folder(name, tmp_path) == tmp_path / folder / "raw"
    data = load_dataset(name, tmp_path)
    assert torch.equal(data.x, torch.from_numpy(arrays["node_features"]))
    assert torch.equal(data.y, torch.from_numpy(arrays["node_labels"]))
    undirected = {frozenset(e) for e in arrays["edges"].tolist()}
    assert {tuple(e) for e in data.edge_index.t().tolist()} == {(a, b) for a, b in undirected} | {
        (b, a) for a, b in undirected}
    assert data.edge_index.shape[1] == 2 * len(undirected)
    for split in range(10):
        train, val, test = geom_gcn_split(data, split)
        assert torch.equal(train, torch.from_numpy(arrays["train_masks"][split]))
        assert torch.equal(val, torch.from_numpy(arrays["val_masks"][split]))
        assert torch.equal(test, torch.from_numpy(arrays["test_masks"][split]))
    with pytest.raises(ValueError, match="index"):
        geom_gcn_split(data, 10)


@pytest.mark.parametrize("name", ["minesweeper", "tolokers", "roman-empire", "amazon-ratings", "questions"])
def test_missing_npz_names_the_file_and_the_folder(tmp_path, name):
    folder = name.replace("-", "_")
    with pytest.raises(MissingDatasetError, match=f"{folder}.npz") as error:
        load_dataset(name, tmp_path)
    assert str(tmp_path / folder / "raw") in str(error.value)
    assert DATASETS[name].raw_files == (f"{folder}.npz",)


@pytest.mark.parametrize("name, nodes, edges, features, positives",
                         [("minesweeper", 10000, 78804, 7, 2000), ("tolokers", 11758, 1038000, 10, 2566)])
def test_the_offline_sets_have_the_published_sizes(data_root, name, nodes, edges, features, positives):
    if not (data_root / name / "raw").is_dir():
        pytest.skip(f"offline data root has no {name}/raw (set GRAPHCON_DATA)")
    data = load_dataset(name, data_root)
    assert (data.num_nodes, data.edge_index.shape[1], data.num_features) == (nodes, edges, features)
    assert int(data.y.sum()) == positives and set(data.y.tolist()) == {0, 1}
    for split in range(10):
        train, val, test = geom_gcn_split(data, split)
        assert int(train.sum()) == nodes // 2 and abs(int(val.sum()) - nodes // 4) <= 1
        assert not (train & val).any() and not (train & test).any() and not (val & test).any()
        assert bool((train | val | test).all())


def check_graph_of(data, arrays):
    """``data`` is the graph of ``arrays``: same features and labels, every listed pair in both directions once,
    split i of every mask is row i of the file's [10, N] masks."""
    num_nodes = arrays["node_features"].shape[0]
    assert torch.equal(data.x, torch.from_numpy(arrays["node_features"]))
    assert torch.equal(data.y, torch.from_numpy(arrays["node_labels"]))
    pairs = {frozenset(e) for e in arrays["edges"].tolist()}
    expected = sorted({(a, b) for a, b in map(sorted, pairs)} | {(b, a) for a, b in map(sorted, pairs)})
    assert [tuple(e) for e in data.edge_index.t().tolist()] == expected  # sorted by (source, target), no duplicate
    for key in ("train", "val", "test"):
        mask = getattr(data, f"{key}_mask")
        assert mask.shape == (num_nodes, 10) and mask.dtype == torch.bool and mask.is_contiguous()
        assert torch.equal(mask, torch.from_numpy(arrays[f"{key}_masks"]).t())


@pytest.mark.parametrize("name, file", [("chameleon-filtered", "chameleon_filtered.npz"),
                                        ("squirrel-filtered", "squirrel_filtered.npz")])
def test_a_tiny_filtered_npz_loads_with_undirected_edges_and_ten_splits(tmp_path, name, file):
    arrays = write_tiny_npz(tmp_path, name, file=file)
    assert raw_folder(name, tmp_path) == tmp_path / name / "raw"
    assert DATASETS[name].raw_files == (file,)
    data = load_dataset(name, tmp_path)
    check_graph_of(data, arrays)
    assert data.edge_index.shape[1] == 2 * 14  # the 12-node ring and two chords, each listed once
    train, val, test = geom_gcn_split(data, 4)
    assert torch.equal(train, torch.from_numpy(arrays["train_masks"][4]))
    assert torch.equal(test, torch.from_numpy(arrays["test_masks"][4]))


def test_filtered_loader_builds_the_graph_pyg_builds_for_the_other_sets(tmp_path):
    arrays = write_tiny_npz(tmp_path, "minesweeper")
    arrays["edges"] = np.concatenate([arrays["edges"], arrays["edges"][:3, ::-1], arrays["edges"][:2]])
    np.savez(tmp_path / "minesweeper" / "raw" / "minesweeper.npz", **arrays)  # pairs repeated, either way round
    ours = load_filtered(tmp_path / "minesweeper" / "raw" / "minesweeper.npz")
    pyg = load_dataset("minesweeper", tmp_path)
    assert sorted(ours.keys()) == sorted(pyg.keys())
    for key in ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(ours[key], pyg[key]), key
    check_graph_of(ours, arrays)


@pytest.mark.parametrize("name, file", [("chameleon-filtered", "chameleon_filtered.npz"),
                                        ("squirrel-filtered", "squirrel_filtered.npz")])
def test_a_missing_filtered_npz_names_the_file_and_the_folder(tmp_path, name, file):
    (tmp_path / name / "raw").mkdir(parents=True)
    with pytest.raises(MissingDatasetError) as error:
        load_dataset(name, tmp_path)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    assert f"{name}: 1 raw file(s) missing: {file}." in message and str(tmp_path / name / "raw") in message
    assert "nothing is downloaded" in message


@pytest.mark.parametrize("name, nodes, pairs, features, classes", [
    ("chameleon-filtered", 890, 8_854, 2_325, 5),  # Platonov et al. (2023), Table 1 (filtered)
    ("squirrel-filtered", 2_223, 46_998, 2_089, 5),
])
def test_the_filtered_sets_have_the_published_sizes(data_root, name, nodes, pairs, features, classes):
    if not (data_root / name / "raw").is_dir():
        pytest.skip(f"offline data root has no {data_root / name / 'raw'} (set GRAPHCON_DATA to the raw datasets)")
    data = load_dataset(name, data_root)
    assert (data.num_nodes, data.edge_index.shape[1], data.num_features) == (nodes, 2 * pairs, features)
    assert sorted(set(data.y.tolist())) == list(range(classes))
    assert is_undirected(data.edge_index, num_nodes=nodes)
    assert not bool((data.edge_index[0] == data.edge_index[1]).any())
    for split in range(10):
        train, val, test = geom_gcn_split(data, split)
        assert not (train & val).any() and not (train & test).any() and not (val & test).any()
        assert bool((train | val | test).all())
