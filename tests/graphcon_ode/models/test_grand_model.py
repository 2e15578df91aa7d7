"""graphcon-grand against the authors' equations, written out in their own variables (X, Y), float64."""

import pytest
import torch

from graphcon_ode.models.grand import GrandGraphCONModel
from tests.graphs import gcn_operator, random_graph

NODES, FEATURES, HIDDEN, CLASSES, STEPS, DT = 10, 5, 4, 3, 6, 0.7


def tiny_model(seed=0):
    torch.manual_seed(seed)
    model = GrandGraphCONModel(FEATURES, HIDDEN, CLASSES, num_layers=STEPS, step_size=DT).double()
    with torch.no_grad():
        for p in (model.field.beta1, model.field.beta2, model.field.a, model.field.coupling.layers[0].bias):
            p.normal_()
    model.eval()
    return model, torch.randn(NODES, FEATURES, dtype=torch.float64), random_graph(NODES, 20, seed=seed)


def authors_loop(model, x, edge_index, steps):
    """Y⁺ = Y + Δt[(1 − s₁)(C(X) − X − Y) + s₁H̄], X⁺ = X + Δt(cY⁺ + s₂H̄), X⁰ = Y⁰ = H (velocity first)."""
    conv = model.field.coupling.layers[0]
    a_hat = gcn_operator(edge_index, NODES)
    s1, s2 = torch.sigmoid(model.field.beta1), torch.sigmoid(model.field.beta2)
    c = (1 - s2) * torch.sigmoid(model.field.a)
    h = x @ model.encoder.weight.T + model.encoder.bias
    source = h.detach()
    big_x, big_y, history = h, h, []
    for _ in range(steps):
        conv_x = a_hat @ big_x @ conv.lin.weight.T + conv.bias
        big_y = big_y + DT * ((1 - s1) * (conv_x - big_x - big_y) + s1 * source)
        big_x = big_x + DT * (c * big_y + s2 * source)
        history.append(big_y)
    velocity_logits = torch.stack([torch.relu(v) @ model.decoder.weight.T + model.decoder.bias for v in history])
    return torch.relu(big_x) @ model.decoder.weight.T + model.decoder.bias, velocity_logits


def test_logits_are_the_authors_symplectic_euler():
    model, x, edge_index = tiny_model()
    expected, _ = authors_loop(model, x, edge_index, STEPS)
    assert torch.allclose(model(x, edge_index), expected, rtol=1e-12, atol=1e-12)


def test_per_step_read_outs_decode_the_authors_velocity():
    model, x, edge_index = tiny_model(seed=1)
    expected_out, expected_steps = authors_loop(model, x, edge_index, 3 * STEPS)
    steps, outputs = model.step_logits(x, edge_index, 3 * STEPS)
    assert steps.shape == outputs.shape == (3 * STEPS, NODES, CLASSES)
    assert torch.allclose(steps, expected_steps, rtol=1e-11, atol=1e-11)
    assert torch.allclose(outputs[-1], expected_out, rtol=1e-12, atol=1e-12)
    assert torch.allclose(outputs[STEPS - 1], model(x, edge_index), rtol=1e-12, atol=1e-12)


def test_gradients_match_the_loop_with_a_detached_source():
    model, x, edge_index = tiny_model(seed=2)
    names = [name for name, _ in model.named_parameters()]
    got = torch.autograd.grad(model(x, edge_index).sin().sum(), list(model.parameters()))
    expected = torch.autograd.grad(authors_loop(model, x, edge_index, STEPS)[0].sin().sum(),
                                   list(model.parameters()))
    for name, g, e in zip(names, got, expected):
        assert torch.allclose(g, e, rtol=1e-10, atol=1e-12), name


def test_initial_coefficients_are_a_half_and_an_eighth():
    model = GrandGraphCONModel(FEATURES, HIDDEN, CLASSES, num_layers=2)
    assert model.field.alpha.item() == pytest.approx(0.5)
    assert model.field.gamma.item() == pytest.approx(0.125)
