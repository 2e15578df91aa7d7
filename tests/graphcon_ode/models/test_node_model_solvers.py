import copy
import warnings

import pytest
import torch

from graphcon_ode import GraphCONNodeModel
from graphcon_ode.odeint import all_finite, is_fixed_step
from solvers import Backprop, Checkpoint, Reversible
from tests.graphs import gcn_operator, random_graph


def eq4_model(model, x, edge_index):
    """The model's logits with eq. (4) written out: X⁰ = Y⁰ = relu(W_enc x), N steps, W_dec Xᴺ (float64, no dropout)."""
    conv = model.field.coupling.layers[0]
    s = gcn_operator(edge_index, x.shape[0])
    h = torch.relu(x @ model.encoder.weight.T + model.encoder.bias)
    y, dt = h, model.step_size
    for _ in range(model.num_layers):
        force = torch.relu(s @ h @ conv.lin.weight.T + conv.bias)
        y = y + dt * (force - model.field.gamma * h - model.field.alpha * y)
        h = h + dt * y
    return h @ model.decoder.weight.T + model.decoder.bias


def small_model(**kwargs):
    torch.manual_seed(0)
    return GraphCONNodeModel(5, 6, 3, num_layers=3, step_size=0.5, alpha=0.7, gamma=1.3, **kwargs).double().eval()


def test_graph_preprocessing_runs_once_per_graph_and_again_for_a_new_graph(monkeypatch):
    model = small_model()
    calls = []
    prepare = model.field.coupling.prepare
    monkeypatch.setattr(model.field.coupling, "prepare", lambda *a, **k: calls.append(1) or prepare(*a, **k))
    first, second = random_graph(8, 14, seed=1), random_graph(8, 14, seed=2)
    x = torch.randn(8, 5, dtype=torch.float64)
    for _ in range(3):
        assert torch.allclose(model(x, first), eq4_model(model, x, first), rtol=0, atol=1e-12)
    assert len(calls) == 1
    assert torch.allclose(model(x, second), eq4_model(model, x, second), rtol=0, atol=1e-12)
    assert len(calls) == 2
    second[:, :2] = second[:, :2].flip(1)  # an in-place change of the graph tensor is a new graph
    assert torch.allclose(model(x, second), eq4_model(model, x, second), rtol=0, atol=1e-12)
    assert len(calls) == 3


def test_a_model_with_a_bound_graph_copies_and_keeps_its_function():
    model = small_model()
    edge_index, x = random_graph(8, 14), torch.randn(8, 5, dtype=torch.float64)
    expected = model(x, edge_index)
    copied = copy.deepcopy(model)
    assert torch.equal(copied(x, edge_index), expected)
    assert copied.bound_field(edge_index, x).field is copied.field


def test_adaptive_methods_get_no_step_size_and_report_their_evaluations():
    assert is_fixed_step("imex") and is_fixed_step("rk4") and not is_fixed_step("dopri5")
    with pytest.raises(ValueError, match="method"):
        is_fixed_step("leapfrog")
    model = small_model(method="dopri5", rtol=1e-7, atol=1e-7)
    assert model.options == {}
    edge_index, x = random_graph(8, 14), torch.randn(8, 5, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logits = model(x, edge_index)
    assert model.last_stats.nfe_forward > 20 and model.last_stats.steps is None
    fine = small_model(method="rk4", options={"step_size": 0.01})
    assert torch.allclose(logits, fine(x, edge_index), rtol=0, atol=1e-5)
    assert fine.last_stats.nfe_forward == 4 * 150


def test_model_rejects_unknown_methods_and_step_dropout_without_steps():
    with pytest.raises(ValueError, match="method"):
        small_model(method="leapfrog")
    with pytest.raises(ValueError, match="step_dropout"):
        small_model(method="dopri5", step_dropout=0.5)


@pytest.mark.parametrize("backward", [False, "backprop", Backprop(), "checkpoint", Checkpoint(every=2)])
def test_step_dropout_takes_every_mode_that_applies_a_map_between_steps(backward):
    model = small_model(step_dropout=0.5, backward=backward).train()
    x, edge_index = torch.randn(7, 5, dtype=torch.float64), random_graph(7, 12)
    model(x, edge_index).sum().backward()
    assert model.encoder.weight.grad is not None


@pytest.mark.parametrize("backward", [True, "reversible", Reversible(anchor_every=2), "exact_reversal"])
def test_step_dropout_refuses_modes_that_cannot_apply_it(backward):
    with pytest.raises(ValueError, match="step_dropout.*backprop, checkpoint"):
        small_model(step_dropout=0.5, backward=backward)


def test_finite_check_is_exact_when_the_sum_overflows():
    huge = torch.full((3, 2), 3e38)  # finite entries whose float32 sum is inf
    assert all_finite(huge)
    for bad in (float("nan"), float("inf"), -float("inf")):
        for base in (torch.ones(3, 2), huge.clone()):
            base[1, 1] = bad
            assert not all_finite(base)
    opposite = torch.tensor([float("inf"), -float("inf")])  # sums to nan
    assert not all_finite(opposite)
