"""Backward mode "reversible": its anchor spacing from the a-priori bound, its a-posteriori check of every rebuilt
block, its counts of force evaluations, and its gradients against eq. (4) written out here."""

import math
import re
import warnings

import pytest
import torch

from graphcon_ode import odeint
from solvers import METHODS
from solvers.backward.reversible import AnchorSpacing, Reversible, _distinct_steps, _relative_error, choose_spacing
from solvers.integrate import StepGrid
from solvers.methods import Imex, PartitionedMethod
from solvers.problem import Problem
from solvers.stats import SolveStats
from solvers.system import CountedFunction
from tests.solvers.oscillators import DrivenOscillator

Q0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
P0 = torch.tensor([0.2, 0.7], dtype=torch.float64)
EPS = torch.finfo(torch.float64).eps


class Halving(PartitionedMethod):
    """q⁺ = q/c, p⁺ = p/c + Δt g(t, q) with c = 2; undone by q = c q⁺, p = c (p⁺ − Δt g(t, q)).

    Undoing k steps multiplies every error by exactly c^k, so A(j) = 2^j and ε Σ_{j≤k} A(j) = ε (2^{k+1} − 2):
    the anchor spacing it gets is known in closed form.
    """

    name, order, invertible = "halving_test", 1, True
    factor = 2.0

    def step(self, system, t, dt, q, p, state=None):
        return q / self.factor, p / self.factor + dt * system.force(t, q)

    def inverse(self, system, t, dt, q, p, state=None):
        q_prev = q * self.factor
        return q_prev, (p - dt * system.force(t, q_prev)) * self.factor


def scaling(factor):
    """A :class:`Halving` whose inverse multiplies by ``factor`` instead of 2."""
    return type("Scaling", (Halving,), {"name": "scaling_test", "factor": factor})


def drift(amplitude=0.0):
    """g(t, q) = F cos(ωt), α = γ = 0: a force that does not depend on q, so its Lipschitz constant is 0."""
    return DrivenOscillator(alpha=0.0, gamma=0.0, kappa=0.0, amplitude=amplitude)


class Stiffening(DrivenOscillator):
    """g(t, q) = −κ(t) q with κ(t) = κ₀ + κ₁ t: a Lipschitz constant |κ(t)| that changes along the solve."""

    def __init__(self, kappa0, kappa1):
        super().__init__(alpha=0.5)
        self.kappa0, self.kappa1 = kappa0, kappa1

    def force(self, t, q):
        return -(self.kappa0 + self.kappa1 * t) * q


class Pendulum(DrivenOscillator):
    """g(t, q) = F cos(ωt) − κ sin(q): a Jacobian that depends on the state, so a wrong state gives a wrong gradient."""

    def force(self, t, q):
        self.calls += 1
        return self.amplitude * torch.cos(self.omega * t) - self.kappa * torch.sin(q)


def grid_of(t, step_size=None):
    return StepGrid(torch.tensor(t, dtype=torch.float64), step_size, Q0)


def spacing(method, system, t, step_size, **options):
    return choose_spacing(method, system, grid_of(t, step_size), Q0, options)


def eq4(system, q, p, dt, steps):
    """p⁺ = p + Δt(g(t, q) − γq − αp), q⁺ = q + Δt p⁺ (eq. (4)), the states at every step."""
    states = [(q, p)]
    for k in range(steps):
        t = torch.tensor(k * dt, dtype=torch.float64)
        p = p + dt * (system.force(t, q) - system.gamma * q - system.alpha * p)
        q = q + dt * p
        states.append((q, p))
    return states


def loss_of(qs, ps):
    """Reads every output, the initial one included, each with its own weight."""
    weights = torch.arange(1, len(qs) + 1, dtype=torch.float64)[:, None]
    return (weights * qs**2).sum() + (weights * torch.sin(qs) * ps).sum()


def reference_gradients(system, dt, steps, every):
    """d loss / d(q0, p0) through eq. (4) by autograd, the outputs being every ``every``-th state."""
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    states = eq4(system, q0, p0, dt, steps)[::every]
    loss_of(torch.stack([q for q, _ in states]), torch.stack([p for _, p in states])).backward()
    return q0.grad, p0.grad


def reversible_gradients(system, t, step_size, method="imex", **options):
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    (qs, ps), stats = odeint(system, (q0, p0), torch.tensor(t, dtype=torch.float64), method=method,
                             options={"step_size": step_size, **options}, backward="reversible", return_stats=True)
    loss_of(qs, ps).backward()
    return q0.grad, p0.grad, stats


@pytest.fixture
def halving(monkeypatch):
    monkeypatch.setitem(METHODS, Halving.name, Halving)
    return Halving.name


# The steps the bound covers


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["forward", "backward"])
def test_distinct_steps_are_the_first_the_shortest_and_the_longest(sign):
    steps = _distinct_steps(grid_of([0.0, sign * 0.2, sign * 0.5, sign * 0.55]))
    assert steps == pytest.approx(sorted([sign * 0.05, sign * 0.2, sign * 0.3]), rel=1e-12)


def test_distinct_steps_leave_out_a_zero_length_last_step():
    """[0, 2.1] in steps of 0.15 is 15 steps, the last of length 0."""
    grid = grid_of([0.0, 2.1], 0.15)
    assert grid.steps == 15
    steps = _distinct_steps(grid)
    assert 1 <= len(steps) <= 3 and steps == pytest.approx([0.15] * len(steps), rel=1e-12)
    assert _distinct_steps(grid_of([0.0])) == []


# The relative error of a rebuilt state


def test_relative_error_is_the_max_norm_over_the_largest_entry_of_the_anchor():
    anchor = (torch.tensor([4.0, -1.0]), torch.tensor([2.0, 0.5]))
    state = (torch.tensor([4.0, -1.5]), torch.tensor([2.0, 0.5]))
    assert _relative_error(state, anchor) == 0.5 / 4.0
    anchor, state = (anchor[1], anchor[0]), (state[1], state[0])
    assert _relative_error(state, anchor) == 0.5 / 4.0
    assert _relative_error((torch.tensor([2.0]), torch.tensor([-7.0])), (torch.tensor([3.0]), torch.tensor([-8.0]))) \
        == 1.0 / 8.0


def test_relative_error_of_a_zero_anchor_and_of_a_non_finite_state():
    zero = (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    assert _relative_error(zero, zero) == 0.0
    tiny = torch.finfo(torch.float64).tiny
    assert _relative_error((torch.full((3,), tiny, dtype=torch.float64), zero[1]), zero) == 1.0
    nan = (torch.tensor([1.0, math.nan]), torch.tensor([0.0, 1.0]))
    assert _relative_error(nan, (torch.ones(2), torch.ones(2))) == math.inf
    inf = (torch.tensor([1.0, math.inf]), torch.tensor([0.0, 1.0]))
    assert _relative_error(inf, (torch.ones(2), torch.ones(2))) == math.inf


# The anchor spacing from the a-priori bound


def test_a_solve_without_steps_has_one_block_and_a_unit_bound():
    result = spacing(Imex(), DrivenOscillator(alpha=0.5), [0.0], 0.1)
    assert result == AnchorSpacing(every=1, bound=1.0, estimated_error=0.0, tolerance=EPS ** (2 / 3), lipschitz=0.0)
    given = spacing(Imex(), DrivenOscillator(alpha=0.5), [0.0], 0.1, reconstruction_tol=1e-6)
    assert given.tolerance == 1e-6


def test_the_spacing_is_the_largest_k_whose_estimate_stays_below_a_quarter_of_the_tolerance():
    """A(j) = 2^j: ε(2^{k+1} − 2) ≤ ε^{2/3}/4 holds up to k = 14 (32766 ≤ 41285 < 65534)."""
    result = spacing(Halving(), drift(), [0.0, 2.0], 0.1)
    assert result == AnchorSpacing(every=14, bound=2.0**14, estimated_error=EPS * (2**15 - 2),
                                   tolerance=EPS ** (2 / 3), lipschitz=0.0)


def test_the_spacing_follows_a_given_tolerance_and_includes_the_equal_case():
    """Tolerance 4·30ε: ε Σ_{j≤4} 2^j = 30ε is exactly a quarter of it, so k = 4."""
    result = spacing(Halving(), drift(), [0.0, 2.0], 0.1, reconstruction_tol=120 * EPS)
    assert result == AnchorSpacing(every=4, bound=16.0, estimated_error=30 * EPS, tolerance=120 * EPS,
                                   lipschitz=0.0)


def test_the_spacing_is_decided_in_float64():
    """A tolerance a hair below 4·30ε gives k = 3: in float32 the two sides would round to equal."""
    tolerance = 120 * EPS * (1 - 2.0**-40)
    result = spacing(Halving(), drift(), [0.0, 2.0], 0.1, reconstruction_tol=tolerance)
    assert (result.every, result.bound, result.estimated_error) == (3, 8.0, 14 * EPS)


def test_the_spacing_is_at_least_one_step():
    """Tolerance 4ε: already one undone step (2ε) exceeds a quarter of it, and k = 1 is still taken."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = spacing(Halving(), drift(), [0.0, 2.0], 0.1, reconstruction_tol=4 * EPS)
    assert (result.every, result.bound, result.estimated_error) == (1, 2.0, 2 * EPS)


def test_a_given_spacing_is_kept_and_capped_by_the_steps():
    result = spacing(Halving(), drift(), [0.0, 2.0], 0.1, anchor_every=3, reconstruction_tol=1e-6)
    assert result == AnchorSpacing(every=3, bound=8.0, estimated_error=14 * EPS, tolerance=1e-6, lipschitz=0.0)
    capped = spacing(Halving(), drift(), [0.0, 0.5], 0.1, anchor_every=50, reconstruction_tol=1e-6)
    assert (capped.every, capped.bound, capped.estimated_error) == (5, 32.0, 62 * EPS)


def test_an_estimate_equal_to_the_tolerance_is_not_warned_about():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = spacing(Halving(), drift(), [0.0, 2.0], 0.1, anchor_every=3, reconstruction_tol=14 * EPS)
    assert result.estimated_error == result.tolerance


def test_an_estimate_above_the_tolerance_is_warned_about():
    with pytest.warns(RuntimeWarning) as record:
        spacing(Halving(), drift(), [0.0, 2.0], 0.1, anchor_every=4, reconstruction_tol=14 * EPS)
    assert len(record) == 1
    assert str(record[0].message) == (
        "adjoint='reversible': undoing a block of 4 steps amplifies round-off by up to 16 in torch.float64 "
        f"(estimated reconstruction error {30 * EPS:.3g}, tolerance {14 * EPS:.3g}); blocks that fail the check "
        "are recomputed from their anchors, which costs one more forward solve of the block and memory of its 4 "
        "states. adjoint='checkpoint' avoids the inverse."
    )


@pytest.mark.parametrize("factor", [2.0**52, 2.0**51 * 1.9], ids=["1/eps", "frobenius-above-1/eps"])
def test_a_step_that_multiplies_errors_by_up_to_1_over_eps_is_still_undone(factor):
    """The refusal compares the spectral norm of the inverse step, here exactly ``factor``, with 1/ε."""
    with pytest.warns(RuntimeWarning, match="amplifies round-off"):
        result = spacing(scaling(factor)(), drift(), [0.0, 1.0], 0.1)
    assert (result.every, result.bound) == (1, factor)


def test_a_step_that_multiplies_errors_by_more_than_1_over_eps_is_refused():
    with pytest.raises(ValueError) as error:
        spacing(scaling(1.5 * 2.0**52)(), drift(), [0.0, 1.0], 0.1)
    assert str(error.value) == (
        "adjoint='reversible': a step of method 'scaling_test' cannot be undone at alpha=0 and step_size=0.1 "
        "(alpha * step_size = 0; undoing one step multiplies errors by 6.76e+15); use adjoint='checkpoint', "
        "which needs no inverse"
    )


def test_the_refusal_quotes_alpha_times_the_step_size():
    with pytest.raises(ValueError) as error:
        spacing(Imex(), DrivenOscillator(alpha=2.0), [0.0, 1.0], 0.5)
    assert str(error.value) == (
        "adjoint='reversible': a step of method 'imex' cannot be undone at alpha=2 and step_size=0.5 "
        "(alpha * step_size = 1; undoing one step multiplies errors by inf); use adjoint='checkpoint', "
        "which needs no inverse"
    )


@pytest.mark.parametrize("kappa0, kappa1, t, step_size, expected", [
    (2.0, -1.0, [0.0, 1.0], 0.1, 2.0),
    (1.0, 1.0, [0.0, 1.0], 0.25, 1.75),
    (1.0, 1.0, [0.0, 1.0], 1.0, 1.0),
], ids=["largest-at-the-first-step", "largest-at-the-last-step", "one-step"])
def test_the_lipschitz_constant_is_estimated_at_the_start_of_the_first_and_of_the_last_step(kappa0, kappa1, t,
                                                                                            step_size, expected):
    """g = −κ(t) q has ‖∂g/∂q‖ = |κ(t)|; the bound takes the larger of its values at t₀ and t_{N−1}."""
    result = spacing(Imex(), Stiffening(kappa0, kappa1), t, step_size, anchor_every=1)
    assert result.lipschitz == pytest.approx(expected, rel=1e-6)


# The solve's figures


def test_stats_report_the_spacing_and_its_figures(halving):
    """20 steps of a method with A(j) = 2^j: k = 14, so blocks 0–14 and 14–20 and three anchors."""
    q0 = Q0.clone().requires_grad_()
    (qs, _), stats = odeint(drift(), (q0, P0), torch.tensor([0.0, 2.0], dtype=torch.float64), method=halving,
                            options={"step_size": 0.1}, backward="reversible", return_stats=True)
    assert torch.equal(qs[-1].detach(), Q0 / 2.0**20)
    qs[-1].sum().backward()
    assert torch.equal(q0.grad, torch.full((2,), 2.0**-20, dtype=torch.float64))
    assert stats.steps == 20
    assert stats.extra == {"anchor_every": 14, "amplification_bound": 2.0**14, "force_lipschitz": 0.0,
                           "anchors": 3, "max_reconstruction_error": 0.0, "recomputed_blocks": 0}


def test_stats_report_the_lipschitz_constant_and_the_bound_of_eq4():
    """g = F cos(ωt) − κq: L = κ; with k = 1 the bound is the largest ‖M_κ⁻¹‖₂ over the sampled eigenvalues
    κ ∈ {0} ∪ {L e^{iθ}}, M_κ⁻¹ = [[1, −Δt], [−Δt s/c, (1 + Δt² s)/c]] with s = κ − γ, c = 1 − αΔt (eq. (4) undone),
    written out here for complex κ as 2 × 2 blocks."""
    alpha, gamma, kappa, dt = 0.5, 1.0, 0.5, 0.1
    _, _, stats = reversible_gradients(DrivenOscillator(alpha=alpha, gamma=gamma, kappa=kappa), [0.0, 1.0], dt,
                                       anchor_every=1)
    assert stats.extra["force_lipschitz"] == pytest.approx(kappa, rel=1e-6)
    c = 1 - alpha * dt
    norms = []
    for z in [0j] + [kappa * complex(math.cos(a), math.sin(a)) for a in (2 * math.pi * i / 8 for i in range(8))]:
        s = torch.tensor([[z.real - gamma, -z.imag], [z.imag, z.real - gamma]], dtype=torch.float64)
        eye = torch.eye(2, dtype=torch.float64)
        inverse = torch.cat([torch.cat([eye, -dt * eye], 1), torch.cat([-dt * s / c, (eye + dt * dt * s) / c], 1)])
        norms.append(float(torch.linalg.matrix_norm(inverse, ord=2)))
    assert stats.extra["amplification_bound"] == pytest.approx(max(norms), rel=1e-6)
    assert stats.extra["anchor_every"] == 1 and stats.extra["anchors"] == 11


def test_a_single_output_time_is_the_initial_state_with_unit_gradient():
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    (qs, ps), stats = odeint(DrivenOscillator(alpha=0.5), (q0, p0), torch.tensor([0.0], dtype=torch.float64),
                             options={"step_size": 0.1}, backward="reversible", return_stats=True)
    assert torch.equal(qs.detach(), Q0[None]) and torch.equal(ps.detach(), P0[None])
    (qs.sum() + 2 * ps.sum()).backward()
    assert torch.equal(q0.grad, torch.ones(2, dtype=torch.float64))
    assert torch.equal(p0.grad, torch.full((2,), 2.0, dtype=torch.float64))
    assert stats.extra == {"anchor_every": 1, "amplification_bound": 1.0, "force_lipschitz": 0.0, "anchors": 1,
                           "max_reconstruction_error": 0.0, "recomputed_blocks": 0}


def test_run_keeps_the_step_limit_of_the_problem():
    system = DrivenOscillator(alpha=0.5)
    problem = Problem(system, Q0, P0, torch.tensor([0.0, 1.0], dtype=torch.float64), "imex",
                      options={"step_size": 0.1, "max_steps": 5})
    stats = SolveStats("imex", "reversible")
    with pytest.raises(ValueError, match=r"^step_size: 0.1 over \[0, 1\] is 10 steps, more than the limit of 5 "):
        Reversible().run(problem, CountedFunction(system, stats), stats)


# Gradients against eq. (4)


def test_gradients_of_a_time_dependent_force_follow_eq4():
    """g = F cos(ωt) − κ sin(q), 20 steps in blocks of 6: every output read, the initial one too."""
    system = Pendulum(alpha=0.6, kappa=2.0)
    gq, gp, stats = reversible_gradients(system, [0.0, 0.5, 1.0, 1.5, 2.0], 0.1, anchor_every=6)
    ref_q, ref_p = reference_gradients(system, 0.1, 20, 5)
    assert torch.allclose(gq, ref_q, rtol=1e-12, atol=0) and torch.allclose(gp, ref_p, rtol=1e-12, atol=0)
    assert stats.extra["anchors"] == 5 and stats.extra["recomputed_blocks"] == 0
    assert stats.nfe_backward == 20, "one evaluation a step: the force of each undone step is reused"


def test_recomputed_blocks_give_the_gradients_of_eq4_with_unit_steps():
    """Δt = 1 and a tolerance no rebuilt block meets: both blocks are recomputed forward from their anchors."""
    system = Pendulum(alpha=0.5, kappa=2.0)
    with pytest.warns(RuntimeWarning, match="amplifies round-off"):
        gq, gp, stats = reversible_gradients(system, [0.0, 1.0, 2.0, 3.0, 4.0], 1.0, anchor_every=2,
                                             reconstruction_tol=1e-300)
    ref_q, ref_p = reference_gradients(system, 1.0, 4, 1)
    assert torch.allclose(gq, ref_q, rtol=1e-12, atol=0) and torch.allclose(gp, ref_p, rtol=1e-12, atol=0)
    assert stats.extra["recomputed_blocks"] == 2


def test_a_zero_length_last_step_is_neither_undone_nor_replayed():
    """[0, 2.1] in steps of 0.15: 14 steps and a last one of length 0, which evaluates no force either way."""
    system = DrivenOscillator(alpha=0.5)
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    (qs, ps), stats = odeint(system, (q0, p0), torch.tensor([0.0, 2.1], dtype=torch.float64),
                             options={"step_size": 0.15}, backward="reversible", return_stats=True)
    loss_of(qs, ps).backward()
    assert stats.nfe_forward == 14 + 1 + 2 * 5, "14 steps, 1 to see the force change with t, 2 × 5 for the estimate"
    assert stats.nfe_backward == 14
    q_ref, p_ref = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    states = eq4(system, q_ref, p_ref, 0.15, 14)
    loss_of(torch.stack([q_ref, states[-1][0]]), torch.stack([p_ref, states[-1][1]])).backward()
    assert torch.allclose(q0.grad, q_ref.grad, rtol=1e-12, atol=0)
    assert torch.allclose(p0.grad, p_ref.grad, rtol=1e-12, atol=0)


def test_parameters_the_force_does_not_read_get_no_gradient():
    used = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    unused = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)

    class Driven(DrivenOscillator):
        def force(self, t, q):
            return used * torch.cos(self.omega * t) - self.kappa * q

    t = torch.tensor([0.0, 0.5], dtype=torch.float64)
    grads = {}
    for mode in ("reversible", "backprop"):
        qs, _ = odeint(Driven(alpha=0.5), (Q0, P0), t, options={"step_size": 0.1}, backward=mode,
                       adjoint_params=(used, unused))
        grads[mode] = torch.autograd.grad(qs[-1].sum(), (used, unused), allow_unused=True)
    assert grads["reversible"][1] is None
    assert torch.allclose(grads["reversible"][0], grads["backprop"][0], rtol=1e-12, atol=0)


@pytest.mark.parametrize("every", [None, 5])
def test_verlet_reuses_the_force_at_the_end_of_a_step_across_anchors(every):
    """N + 1 evaluations for N = 20 steps whatever the blocks, plus 1 + 2 × 5 for the Lipschitz estimate."""
    options = {} if every is None else {"anchor_every": every}
    system = DrivenOscillator(alpha=0.5)
    gq, gp, stats = reversible_gradients(system, [0.0, 1.0, 2.0], 0.1, method="verlet", **options)
    assert stats.nfe_forward == 21 + 11
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    (qs, ps) = odeint(system, (q0, p0), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), method="verlet",
                      options={"step_size": 0.1})
    loss_of(qs, ps).backward()
    assert torch.allclose(gq, q0.grad, rtol=1e-12, atol=0) and torch.allclose(gp, p0.grad, rtol=1e-12, atol=0)


def test_a_force_constant_in_time_is_estimated_once_and_then_from_a_warm_start():
    """g = −κq does not change with t: one power iteration (g and 4 steps) and 1 evaluation to see it; the next
    solve of the same system starts from the last vector and takes one step."""
    system = DrivenOscillator(alpha=0.5, amplitude=0.0)
    t = torch.tensor([0.0, 2.0], dtype=torch.float64)
    counts, grads = [], []
    for _ in range(2):
        q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
        (qs, ps), stats = odeint(system, (q0, p0), t, options={"step_size": 0.1}, backward="reversible",
                                 return_stats=True)
        loss_of(qs, ps).backward()
        counts.append(stats.nfe_forward - stats.steps)
        grads.append(q0.grad)
        assert stats.extra["force_lipschitz"] == pytest.approx(system.kappa, rel=1e-6)
    assert counts == [1 + 4 + 1, 1 + 1 + 1]
    q_ref, p_ref = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    loss_of(*odeint(system, (q_ref, p_ref), t, options={"step_size": 0.1})).backward()
    for got in grads:
        assert torch.allclose(got, q_ref.grad, rtol=1e-12, atol=0)


def test_verlet_recomputes_a_block_with_its_kept_forces():
    """One block of 4 steps recomputed: its first 3 steps run forward again at 3 + 1 evaluations (the force at
    the end of a step starts the next), and each of its 4 steps is replayed with both of its forces (8)."""
    system = Pendulum(alpha=0.5, kappa=2.0)
    counts = []
    for options in ({}, {"reconstruction_tol": 1e-300}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gq, gp, stats = reversible_gradients(system, [0.0, 0.4], 0.1, method="verlet", anchor_every=4, **options)
        counts.append(stats.nfe_backward)
        assert stats.extra["recomputed_blocks"] == len(options)
    assert counts[1] - counts[0] == 4 + 8
    q0, p0 = Q0.clone().requires_grad_(), P0.clone().requires_grad_()
    qs, ps = odeint(system, (q0, p0), torch.tensor([0.0, 0.4], dtype=torch.float64), method="verlet",
                    options={"step_size": 0.1})
    loss_of(qs, ps).backward()
    assert torch.allclose(gq, q0.grad, rtol=1e-12, atol=0) and torch.allclose(gp, p0.grad, rtol=1e-12, atol=0)


# The a-posteriori check


def test_a_rebuilt_block_within_the_tolerance_is_kept(halving):
    """One step of the halving method with F = 0 forward and F = 2^−9 backward: p comes back as 1 − 2^−9
    (p⁺ = 1/2, p = 2(1/2 − Δt F) with Δt = 1/2), q exactly, so the relative error is 2^−9."""
    system = drift()
    q0 = torch.ones(2, dtype=torch.float64, requires_grad=True)
    p0 = torch.ones(2, dtype=torch.float64)
    for tolerance, recomputed in [(2.0**-9, 0), (2.0**-10, 1)]:
        system.amplitude = 0.0
        (qs, _), stats = odeint(system, (q0, p0), torch.tensor([0.0, 0.5], dtype=torch.float64), method=halving,
                                options={"step_size": 0.5, "reconstruction_tol": tolerance}, backward="reversible",
                                return_stats=True)
        system.amplitude = 2.0**-9
        with warnings.catch_warnings(record=True):
            qs[-1].sum().backward()
        assert stats.extra["max_reconstruction_error"] == 2.0**-9
        assert stats.extra["recomputed_blocks"] == recomputed


def test_a_block_the_estimate_did_not_foresee_failing_is_warned_about_once(halving):
    """The force changes between the passes, so every one of the three blocks fails its check; the estimate
    (2ε for one step) equals the tolerance, so the first failure, that of the last block, is warned about."""
    system = drift()
    q0 = Q0.clone().requires_grad_()
    (qs, _), stats = odeint(system, (q0, P0), torch.tensor([0.0, 0.3], dtype=torch.float64), method=halving,
                            options={"step_size": 0.1, "anchor_every": 1, "reconstruction_tol": 2 * EPS},
                            backward="reversible", return_stats=True)
    system.amplitude = 1.0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        qs[-1].sum().backward()
    assert stats.extra["recomputed_blocks"] == 3
    assert len(record) == 1 and record[0].category is RuntimeWarning
    assert re.fullmatch(
        rf"adjoint='reversible': block 2–3 was rebuilt with relative error 0\.\d+, above the tolerance "
        rf"{2 * EPS:.3g} that the a-priori estimate \({2 * EPS:.3g}\) promised; it is recomputed \(gradients stay "
        r"exact\), but method 'halving_test''s inverse may not undo its step",
        str(record[0].message),
    )
    assert torch.equal(q0.grad, torch.full((2,), 0.125, dtype=torch.float64))


def test_a_warm_start_of_another_shape_is_not_used():
    system = DrivenOscillator(alpha=0.5, amplitude=0.0)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    counts = []
    for q0 in (Q0.clone(), torch.ones(3, 2, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64)):
        _, stats = odeint(system, (q0, torch.zeros_like(q0)), t, options={"step_size": 0.1}, backward="reversible",
                          return_stats=True)
        counts.append(stats.nfe_forward - stats.steps)
    assert counts == [6, 6, 3]
