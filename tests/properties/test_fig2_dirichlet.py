"""Fig. 2 on the 10×10 grid (4-neighbour), X⁰ = Y⁰ ~ U([0, 1]), ReLU, γ = Δt = 1, 100 layers of random weights:
GCN and GAT oversmooth exponentially and undamped GraphCON does not — as claimed — but with α = 0.5 and
independent random weights per layer GraphCON's Dirichlet energy decays exponentially too instead of stabilising.
Features come from the library; the grid and the Dirichlet energy (13) are written here."""

import numpy as np
import pytest

from graphcon_ode.claims.dirichlet_figure import layerwise_features


def grid_edges(rows=10, cols=10):
    node = np.arange(rows * cols).reshape(rows, cols)
    pairs = np.concatenate([np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], 1),
                            np.stack([node[:-1].ravel(), node[1:].ravel()], 1)])
    return np.concatenate([pairs, pairs[:, ::-1]])


def dirichlet(xs):
    """E(Xⁿ) = (1/v) Σ_i Σ_{j∈N_i} ‖Xⁿ_i − Xⁿ_j‖² per layer, eq. (13)."""
    edges = grid_edges()
    xs = xs.numpy()
    return ((xs[:, edges[:, 0]] - xs[:, edges[:, 1]]) ** 2).sum((1, 2)) / xs.shape[1]


def late_slope(energies):
    """Per-layer decay rate fitted to log E over layers 50–100."""
    layers = np.arange(50, len(energies))
    return -np.polyfit(layers, np.log(energies[50:]), 1)[0]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["gcn", "gat"])
def test_gcn_and_gat_oversmooth(kind, seed):
    e = dirichlet(layerwise_features(kind, None, seed))
    assert e[-1] <= 1e-20 * e[0]
    assert late_slope(e) >= 0.3


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["gcn", "gat"])
def test_undamped_graphcon_does_not_decay(kind, seed):
    e = dirichlet(layerwise_features(kind, 0.0, seed))
    assert e[50:].min() >= e[0]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["gcn", "gat"])
def test_damped_graphcon_decays_exponentially_with_per_layer_weights(kind, seed):
    e = dirichlet(layerwise_features(kind, 0.5, seed))
    assert e[-1] <= 1e-8 * e[0]
    assert late_slope(e) >= 0.1
