"""Backward modes against gradients of eq. (4) written out in the test (dense GCN operator, float64 autograd)."""

import copy

import pytest
import torch

from graphcon_ode import GCN, GraphCONField, odeint
from solvers import METHODS
from solvers.amplification import force_lipschitz, inverse_step_matrices
from solvers.methods import Imex, PartitionedMethod
from tests.graphs import gcn_operator, random_graph

NODES, CHANNELS = 24, 6


def make_field(alpha, gamma, dtype=torch.float64, seed=0, activation=None):
    torch.manual_seed(seed)
    field = GraphCONField(GCN(CHANNELS), alpha=alpha, gamma=gamma, activation=activation).to(dtype)
    with torch.no_grad():
        field.coupling.layers[0].bias.normal_()
    edge_index = random_graph(NODES, 60, seed=seed)
    x0 = torch.randn(NODES, CHANNELS, dtype=dtype)
    y0 = torch.randn(NODES, CHANNELS, dtype=dtype)
    return field, edge_index, x0, y0


def eq4_outputs(field, edge_index, x, y, dt, steps, outputs):
    """Y^n = Y^{n−1} + Δt[σ(Â X^{n−1} W + b) − γX^{n−1} − αY^{n−1}], X^n = X^{n−1} + Δt Y^n (eq. (4)).

    ``outputs`` are fractional step indices; a fraction interpolates linearly between the two grid states.
    """
    layer = field.coupling.layers[0]
    a_hat = gcn_operator(edge_index, NODES).to(x.dtype)
    states = [(x, y)]
    for _ in range(steps):
        y = y + dt * (torch.relu(a_hat @ x @ layer.lin.weight.T + layer.bias) - field.gamma * x - field.alpha * y)
        x = x + dt * y
        states.append((x, y))
    result = []
    for s in outputs:
        n, frac = int(s), s - int(s)
        (x0, y0), (x1, y1) = states[n], states[min(n + 1, steps)]
        result.append((x0 + frac * (x1 - x0), y0 + frac * (y1 - y0)))
    return result


def loss_of(outputs):
    """A loss that reads every output, both X and Y, non-linearly."""
    return sum((k + 1) * (x.pow(2).sum() + (torch.sin(x) * y).sum()) for k, (x, y) in enumerate(outputs))


def reference_gradients(field, edge_index, x0, y0, dt, steps, outputs):
    field = copy.deepcopy(field).double()
    x, y = x0.double().clone().requires_grad_(), y0.double().clone().requires_grad_()
    loss_of(eq4_outputs(field, edge_index, x, y, dt, steps, outputs)).backward()
    return [x.grad, y.grad] + [p.grad for p in field.parameters()]


def mode_gradients(field, edge_index, x0, y0, dt, times, mode, **options):
    field.zero_grad(set_to_none=True)
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    t = torch.tensor(times, dtype=x0.dtype)
    (xs, ys), stats = odeint(field.bind(edge_index), (x, y), t, method="imex", backward=mode,
                             options={"step_size": dt, **options}, return_stats=True)
    loss_of([(xs[k], ys[k]) for k in range(1, len(times))]).backward()
    return [x.grad, y.grad] + [p.grad for p in field.parameters()], stats


def worst_relative_error(grads, reference):
    return max(float((g.double() - r).norm() / r.norm()) for g, r in zip(grads, reference))


TIMES = [0.0, 1.234, 5.0, 10.0]  # Δt = 0.1: steps 12.34 (interpolated), 50 and 100


@pytest.mark.parametrize("mode", ["backprop", "checkpoint", "reversible", "exact_reversal"])
def test_modes_give_the_gradient_of_eq4_float64(mode):
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3)
    reference = reference_gradients(field, edge_index, x0, y0, 0.1, 100, [12.34, 50, 100])
    grads, stats = mode_gradients(field, edge_index, x0, y0, 0.1, TIMES, mode)
    assert stats.steps == 100
    assert worst_relative_error(grads, reference) <= 1e-8


def test_reversible_equals_backprop_tensor_by_tensor():
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3, seed=3)
    backprop, _ = mode_gradients(field, edge_index, x0, y0, 0.1, TIMES, "backprop")
    reversible, stats = mode_gradients(field, edge_index, x0, y0, 0.1, TIMES, "reversible")
    for g, r in zip(reversible, backprop):
        assert (g - r).norm() <= 1e-8 * r.norm()
    assert stats.nfe_backward == 100, "the force of each undone step is reused by its replayed step"
    assert stats.extra["anchors"] == -(-100 // stats.extra["anchor_every"]) + 1


def test_continuous_adjoint_agrees_to_first_order_in_dt():
    """The continuous adjoint is the gradient of the ODE, backprop that of eq. (4): they differ by O(Δt).

    With a smooth σ (tanh) the difference halves with Δt; at Δt = 0.01 it is below 2%.
    """
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3, activation=torch.tanh)
    errors = []
    for dt in (0.02, 0.01):
        exact, _ = mode_gradients(field, edge_index, x0, y0, dt, [0.0, 1.0], "reversible")
        adjoint, _ = mode_gradients(field, edge_index, x0, y0, dt, [0.0, 1.0], "adjoint")
        errors.append(worst_relative_error(adjoint, exact))
    assert errors[1] <= 0.02
    assert 0.4 <= errors[1] / errors[0] <= 0.6


def test_checkpoint_replays_random_after_step_like_backprop():
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.0)

    def dropout(x, y):
        return torch.nn.functional.dropout(x, 0.3), torch.nn.functional.dropout(y, 0.3)

    def grads(mode):
        torch.manual_seed(7)
        field.zero_grad(set_to_none=True)
        xs, _ = odeint(field.bind(edge_index), (x0, y0), torch.tensor([0.0, 3.0], dtype=torch.float64),
                       options={"step_size": 0.1}, backward=mode, after_step=dropout)
        xs[-1].pow(2).sum().backward()
        return [p.grad for p in field.parameters()]

    for g, r in zip(grads("checkpoint"), grads("backprop")):
        assert torch.allclose(g, r, rtol=1e-12, atol=0)


def test_reversible_float32_at_depth_matches_float64_per_tensor():
    """α = 0.5, Δt = 0.05, N = 1000 in float32: every tensor within 1e-3 of float64 backprop.

    Plain reversal (one block) rebuilds X⁰ from X^N with an error of order 1 here; the anchors keep each
    tensor accurate — checked per tensor, since the late-step weight gradients dominate a concatenated norm.
    """
    torch.manual_seed(0)
    nodes = 300
    edge_index = random_graph(nodes, 1500)
    field = GraphCONField(GCN(16), alpha=0.5, gamma=1.0)
    x0, y0 = torch.randn(nodes, 16), torch.zeros(nodes, 16)
    t = torch.tensor([0.0, 50.0])

    def grads(f, x, y, mode):
        f.zero_grad(set_to_none=True)
        x, y = x.clone().requires_grad_(), y.clone().requires_grad_()
        (xs, _), stats = odeint(f.bind(edge_index), (x, y), t.to(x.dtype), options={"step_size": 0.05},
                                backward=mode, return_stats=True)
        xs[-1].pow(2).sum().backward()
        return [x.grad, y.grad] + [p.grad for p in f.parameters()], stats

    reference, _ = grads(copy.deepcopy(field).double(), x0.double(), y0.double(), "backprop")
    reversible, stats = grads(field, x0, y0, "reversible")
    errors = [float((g.double() - r).norm() / r.norm()) for g, r in zip(reversible, reference)]
    assert max(errors) <= 1e-3, errors
    assert stats.steps == 1000 and 20 <= stats.extra["anchor_every"] < 1000
    assert stats.extra["max_reconstruction_error"] <= 2.4e-5 and stats.extra["recomputed_blocks"] == 0


@pytest.mark.parametrize("mode", ["reversible", "exact_reversal"])
def test_alpha_dt_one_cannot_be_undone(mode):
    field, edge_index, x0, y0 = make_field(alpha=1.0, gamma=1.0)
    with pytest.raises(ValueError, match=r"alpha=1.*step_size=1.*checkpoint"):
        odeint(field.bind(edge_index), (x0, y0), torch.tensor([0.0, 5.0], dtype=torch.float64),
               options={"step_size": 1.0}, backward=mode)


def test_failed_check_recomputes_the_block_and_keeps_gradients_exact():
    """α = 2, Δt = 0.2: undoing a step multiplies errors by about 1/(1 − αΔt) = 1/0.6; over 50 steps ~1e11."""
    field, edge_index, x0, y0 = make_field(alpha=2.0, gamma=1.0)
    times = [0.0, 10.0, 20.0]
    reference = reference_gradients(field, edge_index, x0, y0, 0.2, 100, [50, 100])
    with pytest.warns(RuntimeWarning, match="amplifies round-off by up to"):
        forced, stats = mode_gradients(field, edge_index, x0, y0, 0.2, times, "reversible", anchor_every=50)
    assert stats.extra["recomputed_blocks"] == 2 and stats.extra["max_reconstruction_error"] > 1e-10
    assert worst_relative_error(forced, reference) <= 1e-8

    automatic, stats = mode_gradients(field, edge_index, x0, y0, 0.2, times, "reversible")
    assert stats.extra["recomputed_blocks"] == 0 and stats.extra["anchor_every"] < 50
    assert worst_relative_error(automatic, reference) <= 1e-8


def test_exact_reversal_needs_no_anchors_where_reversal_fails():
    field, edge_index, x0, y0 = make_field(alpha=2.0, gamma=1.0)
    reference = reference_gradients(field, edge_index, x0, y0, 0.2, 100, [50, 100])
    grads, stats = mode_gradients(field, edge_index, x0, y0, 0.2, [0.0, 10.0, 20.0], "exact_reversal")
    assert worst_relative_error(grads, reference) <= 1e-9
    assert stats.nfe_backward == 100


def test_exact_reversal_refuses_a_force_that_is_not_reproducible():
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.0)
    bound = field.bind(edge_index)
    force = bound.force

    def noisy_force(t, x):
        return force(t, x) + 1e-9 * torch.rand_like(x)

    bound.force = noisy_force
    xs, _ = odeint(bound, (x0, y0), torch.tensor([0.0, 2.0], dtype=torch.float64), options={"step_size": 0.1},
                   backward="exact_reversal")
    with pytest.raises(RuntimeError, match="bit for bit"):
        xs[-1].sum().backward()


def test_exact_reversal_refuses_states_beyond_its_fixed_point_range():
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.0)
    t = torch.tensor([0.0, 2.0], dtype=torch.float64)
    with pytest.raises(ValueError, match="y0: entries up to 1000 do not fit"):
        odeint(field.bind(edge_index), (x0, 1000 * torch.ones_like(y0)), t, options={"step_size": 0.1,
               "fraction_bits": 52}, backward="exact_reversal")
    with torch.no_grad():
        field.coupling.layers[0].lin.weight.mul_(100.0)
    with pytest.raises(OverflowError, match="fixed-point range"):
        odeint(field.bind(edge_index), (x0, y0), t, options={"step_size": 0.1, "fraction_bits": 52},
               backward="exact_reversal")


def test_reversible_runs_backwards_in_time():
    field, edge_index, x0, y0 = make_field(alpha=0.3, gamma=1.0)
    grads = {mode: mode_gradients(field, edge_index, x0, y0, 0.1, [0.0, -1.5, -3.0], mode)[0]
             for mode in ("backprop", "reversible")}
    assert worst_relative_error(grads["reversible"], grads["backprop"]) <= 1e-8


def test_front_door_errors_name_the_argument():
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.0)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    with pytest.raises(ValueError, match="method='rk4' is a torchdiffeq method"):
        odeint(field.bind(edge_index), (x0, y0), t, method="rk4", options={"step_size": 0.1}, backward="reversible")
    with pytest.raises(ValueError, match="method='rk4'"):
        odeint(field.bind(edge_index), (x0, y0), t, method="rk4", options={"step_size": 0.1}, backward="checkpoint")
    with pytest.raises(TypeError, match="func: adjoint='reversible'"):
        odeint(lambda t, s: (s[1], -s[0]), (x0, y0), t, options={"step_size": 0.1}, backward="reversible")
    with pytest.raises(ValueError, match="anchor_every"):
        odeint(field.bind(edge_index), (x0, y0), t, options={"step_size": 0.1, "anchor_every": 0},
               backward="reversible")


def test_non_invertible_method_is_refused(monkeypatch):
    class Explicit(PartitionedMethod):
        name, order = "explicit_test", 1

        def step(self, system, t, dt, q, p, state=None):
            return q + dt * p, p + dt * system.acceleration(t, q, p)

    monkeypatch.setitem(METHODS, Explicit.name, Explicit)
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.0)
    with pytest.raises(ValueError, match="has no inverse.*checkpoint"):
        odeint(field.bind(edge_index), (x0, y0), torch.tensor([0.0, 1.0], dtype=torch.float64),
               method=Explicit.name, options={"step_size": 0.1}, backward="reversible")


def test_inverse_step_matrix_is_eq4_undone_for_a_linear_force():
    """For g(q) = κq: q = q⁺ − Δt p⁺, p = (p⁺ − Δt(κ − γ)q) / (1 − αΔt), written out here."""
    alpha, gamma, kappa, dt = 0.7, 1.3, 0.9, 0.2
    matrices = inverse_step_matrices(Imex(), alpha, gamma, kappa, dt)
    c, s = 1 - alpha * dt, kappa - gamma
    scalar = torch.tensor([[1.0, -dt], [-dt * s / c, (1 + dt * dt * s) / c]], dtype=torch.float64)
    expected = torch.kron(scalar, torch.eye(2, dtype=torch.float64))
    assert torch.allclose(matrices[1], expected, rtol=0, atol=1e-15), "angle 0: κ = L on both components"


def test_force_lipschitz_estimates_the_spectral_norm_of_a_linear_force():
    torch.manual_seed(0)
    weight = torch.randn(8, 8, dtype=torch.float64)

    class Linear:
        alpha, gamma = 0.0, 1.0

        def force(self, t, q):
            return q @ weight.T

    estimate = force_lipschitz(Linear(), torch.zeros(()), torch.randn(5, 8, dtype=torch.float64), iterations=30)
    assert estimate == pytest.approx(float(torch.linalg.matrix_norm(weight, ord=2)), rel=1e-4)


@pytest.mark.parametrize("method", [name for name, cls in METHODS.items() if cls.invertible])
def test_reversible_rebuilds_every_block_without_recomputing_it(method):
    """On a well-conditioned problem (α = 0.5, Δt = 0.1, float64) every block rebuilt by the method's inverse
    matches its anchor to round-off, so none is recomputed: a wrong inverse cannot hide behind recomputation."""
    field, edge_index, x0, y0 = make_field(alpha=0.5, gamma=1.3)
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    (xs, ys), stats = odeint(field.bind(edge_index), (x, y), torch.tensor([0.0, 5.0], dtype=torch.float64),
                             method=method, options={"step_size": 0.1, "anchor_every": 25}, backward="reversible",
                             return_stats=True)
    loss_of([(xs[-1], ys[-1])]).backward()
    assert stats.extra["anchors"] == 3
    assert stats.extra["recomputed_blocks"] == 0
    assert stats.extra["max_reconstruction_error"] <= 1e-12
