"""Learnable damping α and frequency γ: every method and backward mode against loops written from the updates.

The references are written out here in float64 on a dense GCN operator, with α and γ read from the raw parameters
through the documented maps (softplus, or lo + (hi − lo)·sigmoid); autograd through those loops gives the
reference gradients, for α and γ and for every other input.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from graphcon_ode import GCN, GraphCONField, odeint
from tests.graphs import gcn_operator, random_graph

NODES, CHANNELS, DT, STEPS = 12, 4, 0.1, 20


def make_field(**coefficients):
    torch.manual_seed(0)
    field = GraphCONField(GCN(CHANNELS), **coefficients).double()
    with torch.no_grad():
        field.coupling.layers[0].bias.normal_()
    edge_index = random_graph(NODES, 30, seed=1)
    x0 = torch.randn(NODES, CHANNELS, dtype=torch.float64)
    y0 = torch.randn(NODES, CHANNELS, dtype=torch.float64)
    return field, edge_index, x0, y0


def coefficient(raw, bounds):
    if bounds is None:
        return F.softplus(raw)
    low, high = bounds
    return low + (high - low) * torch.sigmoid(raw)


def reference_solve(field, edge_index, x, y, method, alpha_range=None):
    """STEPS steps of ``method`` on X' = Y, Y' = relu(Â X W + b) − γX − αY, written out."""
    layer = field.coupling.layers[0]
    a_hat = gcn_operator(edge_index, NODES)
    alpha = coefficient(field.damping.raw, alpha_range)
    gamma = coefficient(field.frequency.raw, None)

    def g(q):
        return torch.relu(a_hat @ q @ layer.lin.weight.T + layer.bias)

    def rhs(q, p):
        return p, g(q) - gamma * q - alpha * p

    for _ in range(STEPS):
        if method == "imex":                                    # eq. (4)
            y = y + DT * (g(x) - gamma * x - alpha * y)
            x = x + DT * y
        elif method == "imex_implicit":
            y = (y + DT * (g(x) - gamma * x)) / (1 + alpha * DT)
            x = x + DT * y
        elif method == "verlet":                                # kick–drift–kick between exact half dampings
            c = torch.exp(-alpha * DT / 2)
            y_half = c * y + DT / 2 * (g(x) - gamma * x)
            x = x + DT * y_half
            y = c * (y_half + DT / 2 * (g(x) - gamma * x))
        elif method == "euler":
            dx, dy = rhs(x, y)
            x, y = x + DT * dx, y + DT * dy
        elif method == "rk4":                                   # torchdiffeq's "rk4": the 3/8 rule
            k1 = rhs(x, y)
            k2 = rhs(x + DT * k1[0] / 3, y + DT * k1[1] / 3)
            k3 = rhs(x + DT * (k2[0] - k1[0] / 3), y + DT * (k2[1] - k1[1] / 3))
            k4 = rhs(x + DT * (k1[0] - k2[0] + k3[0]), y + DT * (k1[1] - k2[1] + k3[1]))
            x = x + DT * (k1[0] + 3 * k2[0] + 3 * k3[0] + k4[0]) / 8
            y = y + DT * (k1[1] + 3 * k2[1] + 3 * k3[1] + k4[1]) / 8
    return x, y


def loss_of(x, y):
    return x.pow(2).sum() + (torch.sin(x) * y).sum()


def gradients(field, inputs, loss):
    return torch.autograd.grad(loss, [*inputs, *field.parameters()])


def relative_errors(grads, reference):
    return [float((g - r).norm() / r.norm()) for g, r in zip(grads, reference)]


CASES = [
    ("imex", "backprop"), ("imex", "checkpoint"), ("imex", "reversible"), ("imex", "exact_reversal"),
    ("imex_implicit", "backprop"), ("imex_implicit", "checkpoint"), ("imex_implicit", "reversible"),
    ("verlet", "backprop"), ("verlet", "checkpoint"), ("verlet", "reversible"),
    ("euler", "backprop"), ("rk4", "backprop"),
]


@pytest.mark.parametrize(("method", "mode"), CASES)
def test_gradients_for_learnable_alpha_and_gamma_match_the_written_out_solve(method, mode):
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3, learn_alpha=True, learn_gamma=True)
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    reference = gradients(field, (x, y), loss_of(*reference_solve(field, edge_index, x, y, method)))

    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    xs, ys = odeint(field.bind(edge_index), (x, y), t, method=method, backward=mode, options={"step_size": DT})
    grads = gradients(field, (x, y), loss_of(xs[-1], ys[-1]))

    names = ["x0", "y0"] + [name for name, _ in field.named_parameters()]
    assert names[-2:] == ["damping.raw", "frequency.raw"]
    tolerance = 1e-7 if mode == "exact_reversal" else 1e-10  # the fixed-point solve rounds at 2^-44
    errors = dict(zip(names, relative_errors(grads, reference)))
    assert max(errors.values()) <= tolerance, errors


def test_verlet_checkpoint_blocks_match_backprop_with_fixed_coefficients():
    """Verlet reuses the force at the end of a step; a checkpoint block must not reuse it from the previous block,
    or its recomputation in the backward pass replays different operations than its forward pass."""
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3)
    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    results = []
    for mode in ("backprop", "checkpoint"):
        x = x0.clone().requires_grad_()
        xs, ys = odeint(field.bind(edge_index), (x, y0), t, method="verlet", backward=mode, options={"step_size": DT})
        results.append(gradients(field, (x,), loss_of(xs[-1], ys[-1])))
    assert max(relative_errors(*reversed(results))) <= 1e-12


def test_continuous_adjoint_differentiates_alpha_and_gamma():
    """adjoint=True with rk4 both ways: the continuous adjoint equals the discrete gradient up to O(Δt⁴)."""
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3, learn_alpha=True, learn_gamma=True,
                                           activation=torch.tanh)
    field.activation = torch.tanh
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    layer = field.coupling.layers[0]
    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    xs, ys = odeint(field.bind(edge_index), (x, y), t, method="rk4", backward=True, options={"step_size": DT},
                    adjoint_method="rk4", adjoint_options={"step_size": DT})
    grads = gradients(field, (x, y), loss_of(xs[-1], ys[-1]))
    xs, ys = odeint(field.bind(edge_index), (x, y), t, method="rk4", options={"step_size": DT})
    exact = gradients(field, (x, y), loss_of(xs[-1], ys[-1]))
    assert layer.bias.requires_grad
    errors = relative_errors(grads, exact)
    assert max(errors[-2:]) <= 1e-4, errors
    assert all(float(g.abs().max()) > 0 for g in grads[-2:])


def test_sigmoid_range_keeps_alpha_inside_and_is_differentiated():
    bounds = (0.0, 1.0)
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3, learn_alpha=True, learn_gamma=True,
                                           alpha_range=bounds)
    assert field.damping.raw.item() == pytest.approx(0.0, abs=1e-15)   # sigmoid(0) = ½ of (0, 1)
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    reference = gradients(field, (x, y),
                          loss_of(*reference_solve(field, edge_index, x, y, "imex", alpha_range=bounds)))
    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    xs, ys = odeint(field.bind(edge_index), (x, y), t, backward="reversible", options={"step_size": DT})
    assert max(relative_errors(gradients(field, (x, y), loss_of(xs[-1], ys[-1])), reference)) <= 1e-10
    with torch.no_grad():
        field.damping.raw.fill_(40.0)
    assert 0.0 < field.alpha.item() <= 1.0


def test_learnable_coefficients_start_at_the_given_values_and_fixed_ones_stay_floats():
    field = GraphCONField(GCN(CHANNELS), alpha=0.3, gamma=2.0, learn_alpha=True, learn_gamma=True)
    assert field.alpha.item() == pytest.approx(0.3, rel=1e-6)
    assert field.gamma.item() == pytest.approx(2.0, rel=1e-6)
    assert field.alpha.requires_grad and field.gamma.requires_grad
    assert field.frequency.raw.item() == pytest.approx(2.0 + math.log(-math.expm1(-2.0)), rel=1e-6)
    fixed = GraphCONField(GCN(CHANNELS), alpha=0.3, gamma=2.0)
    assert isinstance(fixed.alpha, float) and isinstance(fixed.gamma, float)
    assert {name for name, _ in fixed.named_parameters()} == {name for name, _ in fixed.coupling.named_parameters(
        prefix="coupling")}


@pytest.mark.parametrize(("options", "message"), [
    (dict(alpha=0.0, learn_alpha=True), "alpha: a learnable alpha"),
    (dict(gamma=1.0, learn_gamma=True, gamma_range=(0.0, 1.0)), "gamma: a learnable gamma"),
    (dict(alpha=0.5, learn_alpha=True, alpha_range=(1.0, 0.0)), "alpha_range"),
    (dict(alpha=0.5, alpha_range=(0.0, 1.0)), "alpha_range: a range applies to a learnable alpha"),
])
def test_invalid_learnable_settings_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        GraphCONField(GCN(CHANNELS), **options)
