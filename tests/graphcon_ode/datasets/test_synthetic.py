import numpy as np
import pytest
import torch
from torch_geometric.utils import is_undirected

from graphcon_ode.datasets import degree_corrected_sbm
from graphcon_ode.datasets.synthetic import edge_homophily


@pytest.fixture(scope="module")
def power_law_graph():
    return degree_corrected_sbm(20_000, num_classes=5, average_degree=10, homophily=0.7, exponent=2.5, seed=3)


def degrees(data) -> np.ndarray:
    return torch.bincount(data.edge_index[0], minlength=data.num_nodes).numpy()


def test_graph_is_simple_undirected_and_seeded(power_law_graph):
    data = power_law_graph
    source, target = data.edge_index
    assert is_undirected(data.edge_index, num_nodes=data.num_nodes)
    assert not bool((source == target).any())
    keys = source * data.num_nodes + target
    assert keys.unique().numel() == keys.numel()
    again = degree_corrected_sbm(20_000, num_classes=5, average_degree=10, homophily=0.7, exponent=2.5, seed=3)
    assert torch.equal(again.edge_index, data.edge_index) and torch.equal(again.x, data.x)
    masks = data.train_mask.int() + data.val_mask.int() + data.test_mask.int()
    assert bool((masks == 1).all())
    assert int(data.train_mask.sum()) == 2000 and int(data.val_mask.sum()) == 2000


@pytest.mark.parametrize("homophily", [0.05, 0.2, 0.7, 0.95])
def test_edge_homophily_follows_the_knob(homophily):
    data = degree_corrected_sbm(10_000, num_classes=5, average_degree=8, homophily=homophily, seed=1)
    assert edge_homophily(data.edge_index, data.y) == pytest.approx(homophily, abs=0.015)


def test_mean_degree_and_degree_propensity(power_law_graph):
    data = power_law_graph
    degree = degrees(data)
    theta = data.propensity.numpy()
    assert degree.mean() == pytest.approx(10.0, rel=0.03)
    expected = 10.0 * theta / theta.mean()  # degree-corrected SBM: E[degree_i] = d θ_i / mean θ
    for low, high in [(1.0, 1.2), (2.0, 3.0), (5.0, 10.0), (20.0, 200.0)]:
        chosen = (theta >= low) & (theta < high)
        assert chosen.sum() > 30
        assert degree[chosen].mean() == pytest.approx(expected[chosen].mean(), rel=0.08)


def test_power_law_tail_exponent(power_law_graph):
    """P(degree ≥ k) ∝ k^{−(a−1)} over the tail: the fitted log-log slope of the survival function is ≈ −1.5."""
    degree = degrees(power_law_graph)
    ks = np.array([20, 30, 45, 70, 100, 150])
    survival = np.array([(degree >= k).mean() for k in ks])
    slope = np.polyfit(np.log(ks), np.log(survival), 1)[0]
    assert slope == pytest.approx(-1.5, abs=0.2)


def test_without_exponent_degrees_are_poisson_like():
    degree = degrees(degree_corrected_sbm(20_000, average_degree=10, exponent=None, seed=2))
    assert degree.mean() == pytest.approx(10.0, rel=0.02)
    assert degree.var() / degree.mean() == pytest.approx(1.0, abs=0.1)
    assert degree.max() < 40


def test_features_carry_the_label_signal():
    data = degree_corrected_sbm(5_000, num_classes=4, signal=3.0, seed=0)
    means = torch.stack([data.x[data.y == c].mean(0) for c in range(4)])
    nearest = torch.cdist(data.x, means).argmin(1)
    assert float((nearest == data.y).float().mean()) > 0.9
    blank = degree_corrected_sbm(5_000, num_classes=4, signal=0.0, seed=0)
    assert float(blank.x.mean(0).abs().max()) < 0.1


@pytest.mark.parametrize("kwargs, name", [
    ({"homophily": 1.5}, "homophily"), ({"exponent": 2.0}, "exponent"), ({"num_classes": 1}, "num_classes"),
    ({"average_degree": 0}, "average_degree"), ({"train_fraction": 0.8, "val_fraction": 0.5}, "train_fraction")])
def test_invalid_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        degree_corrected_sbm(100, **kwargs)
