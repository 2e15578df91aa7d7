"""A broken raw file is named in the error, and the processed cache follows the raw files' content."""

import shutil

import pytest

from graphcon_ode.cli import main
from graphcon_ode.datasets import DATASETS, DatasetParseError, load_dataset
from graphcon_ode.datasets.storage import content_key


@pytest.fixture
def texas_root(data_root, tmp_path, monkeypatch):
    source = data_root / "texas" / "raw"
    if not source.is_dir():
        pytest.skip(f"offline data root has no {source}")
    root = tmp_path / "data"
    shutil.copytree(source, root / "texas" / "raw")
    monkeypatch.setenv("GRAPHCON_CACHE", str(tmp_path / "cache"))
    return root


def test_a_truncated_split_file_is_named_and_a_restored_one_loads(texas_root):
    split = texas_root / "texas" / "raw" / "texas_split_0.6_0.2_3.npz"
    original = split.read_bytes()
    split.write_bytes(original[: len(original) // 2])
    with pytest.raises(DatasetParseError, match=r"texas: .*texas_split_0\.6_0\.2_3\.npz does not parse"):
        load_dataset("texas", texas_root)
    split.write_bytes(original)
    data = load_dataset("texas", texas_root)
    assert data.num_nodes == 183 and data.train_mask.shape == (183, 10)


def test_a_truncated_feature_file_that_parses_into_fewer_nodes_is_refused(texas_root):
    features = texas_root / "texas" / "raw" / "out1_node_feature_label.txt"
    lines = features.read_text().splitlines(keepends=True)
    features.write_text("".join(lines[:92]))
    with pytest.raises(DatasetParseError, match=r"do not make one graph \(edges refer to node \d+ of 91 nodes.*"
                                                r"out1_node_feature_label\.txt"):
        load_dataset("texas", texas_root)


def test_cache_key_changes_with_the_content(texas_root):
    raw = texas_root / "texas" / "raw"
    files = DATASETS["texas"].raw_files
    before = content_key(raw, files)
    assert content_key(raw, files) == before
    with open(raw / files[1], "a") as handle:
        handle.write("\n")
    assert content_key(raw, files) != before


def test_cli_names_the_broken_file_in_one_line(texas_root, tmp_path, capsys):
    split = texas_root / "texas" / "raw" / "texas_split_0.6_0.2_0.npz"
    split.write_bytes(split.read_bytes()[:100])
    argv = ["node-classification", "--quick", "--dataset", "texas", "--model", "gcn", "--data-root", str(texas_root),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "texas_split_0.6_0.2_0.npz does not parse" in err
