"""Each partitioned method is its update formula: loops written here, both front doors, both time directions."""

import math

import pytest
import torch
import torchdiffeq

import solvers
from graphcon_ode import GCN, GraphCONField, odeint
from tests.graphs import gcn_operator, random_graph
from tests.solvers.oscillators import DrivenOscillator

DT, STEPS = 0.125, 8
ALPHA, GAMMA = 0.4, 1.3


class NonlinearSystem:
    """g(t, q) = cos(2t) tanh(q reversed) + 0.3 sin(t): nonlinear, coupled and time-dependent; counts calls."""

    alpha, gamma = ALPHA, GAMMA

    def __init__(self):
        self.calls = 0

    def force(self, t, q):
        self.calls += 1
        return torch.cos(2 * t) * torch.tanh(q.flip(-1)) + 0.3 * torch.sin(t)

    def acceleration(self, t, q, p):
        return self.force(t, q) - GAMMA * q - ALPHA * p

    def __call__(self, t, state):
        return state[1], self.acceleration(t, *state)


def imex_step(g, t, t_next, q, p):
    h = t_next - t
    p = p + h * (g(t, q) - GAMMA * q - ALPHA * p)
    return q + h * p, p


def imex_implicit_step(g, t, t_next, q, p):
    h = t_next - t
    p = (p + h * (g(t, q) - GAMMA * q)) / (1 + ALPHA * h)
    return q + h * p, p


def verlet_step(g, t, t_next, q, p):
    h = t_next - t
    c = math.exp(-ALPHA * h / 2)
    p = c * p + h / 2 * (g(t, q) - GAMMA * q)
    q = q + h * p
    p = c * (p + h / 2 * (g(t_next, q) - GAMMA * q))
    return q, p


REFERENCE_STEPS = {"imex": imex_step, "imex_implicit": imex_implicit_step, "verlet": verlet_step}


def reference(method, g, q, p, grid, after_step=None):
    """States on every grid point, from the update formula above."""
    states = [(q, p)]
    for t0, t1 in zip(grid[:-1], grid[1:]):
        q, p = REFERENCE_STEPS[method](g, torch.tensor(t0, dtype=torch.float64), torch.tensor(t1, dtype=torch.float64),
                                       q, p)
        if after_step is not None:
            q, p = after_step(q, p)
        states.append((q, p))
    return states


def initial_state(shape=(2, 3)):
    g = torch.Generator().manual_seed(1)
    return (torch.randn(shape, generator=g, dtype=torch.float64),
            torch.randn(shape, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("direction", [1.0, -1.0], ids=["forward", "reversed"])
@pytest.mark.parametrize("method", list(REFERENCE_STEPS))
def test_method_is_its_update_formula_through_both_front_doors(method, direction):
    q0, p0 = initial_state()
    grid = [direction * k * DT for k in range(STEPS + 1)]
    expected = reference(method, NonlinearSystem().force, q0, p0, grid)
    t = direction * torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    ours = odeint(NonlinearSystem(), (q0, p0), t, method=method, options={"step_size": DT})
    theirs = torchdiffeq.odeint(NonlinearSystem(), (q0, p0), t, method=method, options={"step_size": DT})
    for qs, ps in (ours, theirs):
        for j, k in enumerate((0, 4, 8)):
            assert (qs[j] - expected[k][0]).abs().max() <= 1e-12
            assert (ps[j] - expected[k][1]).abs().max() <= 1e-12
    assert (ours[0] - theirs[0]).abs().max() <= 1e-14 and (ours[1] - theirs[1]).abs().max() <= 1e-14


def gcn_field_and_force():
    """A float64 GraphCON-GCN field on a random 10-node graph, its layer, and its force σ(S X Wᵀ + b) written out."""
    torch.manual_seed(0)
    edge_index = random_graph(10, 24)
    field = GraphCONField(GCN(4), alpha=ALPHA, gamma=GAMMA).double()
    layer = field.coupling.layers[0]
    operator = gcn_operator(edge_index, 10)

    def relu_gcn(t, x):
        return torch.relu(operator @ x @ layer.lin.weight.T + layer.bias)

    return edge_index, field, layer, relu_gcn


@pytest.mark.parametrize("method", list(REFERENCE_STEPS))
def test_method_on_a_graphcon_field_is_its_update_formula(method):
    edge_index, field, _, relu_gcn = gcn_field_and_force()
    q0, p0 = initial_state((10, 4))
    with torch.no_grad():
        expected = reference(method, relu_gcn, q0, p0, [k * DT for k in range(STEPS + 1)])[-1]
        t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
        for solve in (odeint, torchdiffeq.odeint):
            qs, ps = solve(field.bind(edge_index), (q0, p0), t, method=method, options={"step_size": DT})
            assert (qs[-1] - expected[0]).abs().max() <= 1e-12 and (ps[-1] - expected[1]).abs().max() <= 1e-12


@pytest.mark.parametrize("method", list(REFERENCE_STEPS))
def test_backprop_gradients_equal_those_of_the_update_formula(method):
    """Fused and in-place tensor ops, and verlet's reused force, keep autograd exact (both front doors)."""
    edge_index, field, layer, relu_gcn = gcn_field_and_force()
    q0, p0 = initial_state((10, 4))
    q0.requires_grad_()
    inputs = [q0, layer.lin.weight, layer.bias]
    q, p = reference(method, relu_gcn, q0, p0, [k * DT for k in range(STEPS + 1)])[-1]
    expected = torch.autograd.grad((q**2).sum() + p.sum(), inputs)
    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    for solve in (odeint, torchdiffeq.odeint):
        qs, ps = solve(field.bind(edge_index), (q0, p0), t, method=method, options={"step_size": DT})
        grads = torch.autograd.grad((qs[-1] ** 2).sum() + ps[-1].sum(), inputs)
        for got, want in zip(grads, expected):
            assert (got - want).abs().max() <= 1e-12 * want.abs().max()


def shrink_q(q, p):
    return 0.9 * q, p


def shrink_q_in_place(q, p):
    return q.mul_(0.9), p


def halve_p(q, p):
    return q, 0.5 * p


@pytest.mark.parametrize("hook, force_calls", [(shrink_q, 2 * STEPS), (shrink_q_in_place, 2 * STEPS),
                                               (halve_p, STEPS + 1)], ids=["new-q", "in-place-q", "p-only"])
def test_verlet_reuses_its_last_force_only_when_q_is_unchanged(hook, force_calls):
    q0, p0 = initial_state()
    expected = reference("verlet", NonlinearSystem().force, q0.clone(), p0, [k * DT for k in range(STEPS + 1)],
                         after_step=hook)[-1]
    system = NonlinearSystem()
    t = torch.tensor([0.0, STEPS * DT], dtype=torch.float64)
    (qs, ps), stats = odeint(system, (q0, p0), t, method="verlet", options={"step_size": DT}, after_step=hook,
                             return_stats=True)
    assert (qs[-1] - expected[0]).abs().max() <= 1e-12 and (ps[-1] - expected[1]).abs().max() <= 1e-12
    assert system.calls == stats.nfe_forward == force_calls


@pytest.mark.parametrize("direction", [1.0, -1.0], ids=["forward", "reversed"])
@pytest.mark.parametrize("method, force_calls", [("imex", STEPS), ("imex_implicit", STEPS), ("verlet", STEPS + 1)])
def test_evaluations_per_solve(method, force_calls, direction):
    """N steps cost N evaluations, N + 1 for verlet (both ends of the first step), in both front doors."""
    q0, p0 = initial_state()
    t = direction * torch.tensor([0.0, 0.3, STEPS * DT], dtype=torch.float64)
    system = NonlinearSystem()
    _, stats = odeint(system, (q0, p0), t, method=method, options={"step_size": DT}, return_stats=True)
    assert stats.steps == STEPS and stats.nfe_forward == system.calls == force_calls
    system = NonlinearSystem()
    torchdiffeq.odeint(system, (q0, p0), t, method=method, options={"step_size": DT})
    assert system.calls == force_calls


def test_adaptive_evaluations_are_counted():
    q0, p0 = initial_state()
    system = NonlinearSystem()
    _, stats = odeint(system, (q0, p0), torch.tensor([0.0, 3.0], dtype=torch.float64), method="dopri5",
                      rtol=1e-8, atol=1e-10, return_stats=True)
    assert stats.steps is None and stats.nfe_forward == system.calls > 30


@pytest.mark.parametrize("alpha", [0.0, 0.5, 40.0])
@pytest.mark.parametrize("dt", [0.1, -0.1])
@pytest.mark.parametrize("method", [name for name, cls in solvers.METHODS.items() if cls.invertible])
def test_inverse_undoes_the_step(method, dt, alpha):
    """float64, α > 0 included: a wrong sign of the damping in ``inverse`` is off by O(αΔt), far above 1e-13."""
    if method == "imex" and alpha * abs(dt) >= 2:
        pytest.skip("eq. (4) is unstable for alpha*dt > 2 (its damping factor 1 - alpha*dt leaves [-1, 1])")
    torch.manual_seed(0)
    f = GraphCONField(GCN(4), alpha=alpha, gamma=1.2).double().bind(random_graph(8, 12))
    q, p = initial_state((8, 4))
    stepper = solvers.get_method(method)
    t = torch.tensor(0.3, dtype=torch.float64)
    with torch.no_grad():
        q1, p1 = stepper.step(f, t, dt, q, p)
        q0, p0 = solvers.get_method(method).inverse(f, t, dt, q1, p1)
    scale = max(q.abs().max(), p.abs().max(), p1.abs().max())
    assert (q0 - q).abs().max() <= 1e-13 * scale and (p0 - p).abs().max() <= 1e-13 * scale


def test_verlet_runs_back_over_many_steps_with_one_force_per_step():
    """Inverse steps reuse the force the same way: N steps there and back cost 2N + 1 evaluations."""
    system = DrivenOscillator(alpha=0.7)
    q, p = initial_state()
    stepper = solvers.get_method("verlet")
    state = stepper.start()
    times = [torch.tensor(k * 0.05, dtype=torch.float64) for k in range(101)]
    qk, pk = q, p
    for t in times[:-1]:
        qk, pk = stepper.step(system, t, 0.05, qk, pk, state)
    for t in reversed(times[:-1]):
        qk, pk = stepper.inverse(system, t, 0.05, qk, pk, state)
    assert (qk - q).abs().max() <= 1e-12 and (pk - p).abs().max() <= 1e-12
    assert system.calls == 201


def plain(t, state):
    q, p = state
    return p, -q


@pytest.mark.parametrize("method", ["imex_implicit", "verlet"])
def test_plain_function_gets_a_clear_type_error(method):
    q0, p0 = initial_state()
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    for solve in (odeint, torchdiffeq.odeint):
        with pytest.raises(TypeError, match=f"method='{method}' needs a field that exposes force"):
            solve(plain, (q0, p0), t, method=method, options={"step_size": DT})


def test_verlet_kept_force_is_not_reused_at_another_time_or_autograd_mode():
    torch.manual_seed(0)
    f = GraphCONField(GCN(4), alpha=ALPHA, gamma=GAMMA).double().bind(random_graph(8, 12))
    system = NonlinearSystem()
    q, p = initial_state((8, 4))
    t, later = torch.tensor(0.0, dtype=torch.float64), torch.tensor(5.0, dtype=torch.float64)
    stepper = solvers.get_method("verlet")
    state = stepper.start()
    q1, p1 = stepper.step(system, t, DT, q, p, state)
    assert torch.equal(stepper.step(system, later, DT, q1, p1, state)[1], stepper.step(system, later, DT, q1, p1)[1])

    weight = f.field.coupling.layers[0].lin.weight
    with torch.no_grad():
        q1, p1 = stepper.step(f, t, DT, q, p, state)
    (expected,) = torch.autograd.grad(stepper.step(f, t + DT, DT, q1, p1)[1].sum(), weight)
    (got,) = torch.autograd.grad(stepper.step(f, t + DT, DT, q1, p1, state)[1].sum(), weight)
    assert torch.equal(got, expected)


class ShrinkingSystem(NonlinearSystem):
    """A torchdiffeq ``callback_step`` that shrinks q in place before every step."""

    def callback_step(self, t0, state, dt):
        state[0].mul_(0.9)


@pytest.mark.parametrize("method", list(REFERENCE_STEPS))
def test_torchdiffeq_continues_from_a_state_changed_between_steps(method):
    q, p = initial_state()
    grid = [k * DT for k in range(STEPS + 1)]
    for t0, t1 in zip(grid[:-1], grid[1:]):
        q, p = REFERENCE_STEPS[method](NonlinearSystem().force, torch.tensor(t0, dtype=torch.float64),
                                       torch.tensor(t1, dtype=torch.float64), 0.9 * q, p)
    system = ShrinkingSystem()
    with torch.no_grad():
        qs, ps = torchdiffeq.odeint(system, initial_state(), torch.tensor([0.0, STEPS * DT], dtype=torch.float64),
                                    method=method, options={"step_size": DT})
    assert (qs[-1] - q).abs().max() <= 1e-12 and (ps[-1] - p).abs().max() <= 1e-12
    assert system.calls == (2 * STEPS if method == "verlet" else STEPS)
