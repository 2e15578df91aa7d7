import gzip

import numpy as np
import pytest
import torch

from graphcon_ode.datasets import graph as graph_datasets
from graphcon_ode.datasets.graph import load_graph_dataset
from graphcon_ode.datasets.superpixels import build_mnist5k_superpixels, digit_graph, superpixels

pytestmark = pytest.mark.usefixtures("private_cache")


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
