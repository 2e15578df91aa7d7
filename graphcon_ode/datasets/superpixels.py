"""The offline stand-in for MNIST-75, "mnist5k-superpixels": 5,000 real MNIST digits as superpixel graphs.

    ROOT/mnist5k/mnist_5k.csv.gz  784 pixel columns (0–255), then the label; no header

Each 28×28 digit is cut into at most 75 SLIC superpixels (scikit-image); a superpixel is a node with its mean
intensity and its centroid, and each node receives edges from its k = 8 nearest centroids. docs/reference/datasets.md
says how the stand-in differs from MNIST-75 (Monti et al., 2017); its results are never to be labelled
"mnist-superpixels".
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphcon_ode.datasets.storage import check_split_sizes

MNIST_SUPERPIXELS_SIZE = 28  # the side of an MNIST image, in pixels
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
    check_split_sizes("mnist5k-superpixels", len(labels), sizes)
    order = np.random.default_rng(seed).permutation(len(labels))[:sum(sizes)]
    graphs = [digit_graph(pixels[i], int(labels[i])) for i in order.tolist()]
    first, second = sizes[0], sizes[0] + sizes[1]
    return graphs[:first], graphs[first:second], graphs[second:]
