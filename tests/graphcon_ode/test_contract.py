"""The public contract of the foundation, run as a user writes it."""

import torch
import torchdiffeq

import graphcon_ode
from graphcon_ode import GraphCONField, odeint
from graphcon_ode.couplings import GAT, GCN
from tests.graphs import random_graph


def setup(dtype=torch.float64, activation=None):
    torch.manual_seed(1)
    edge_index = random_graph(30, 80)
    field = GraphCONField(GCN(16), alpha=0.5, gamma=1.0, activation=activation).to(dtype)
    x0 = torch.randn(30, 16, dtype=dtype)
    y0 = torch.randn(30, 16, dtype=dtype)
    return field, edge_index, x0, y0


def test_contract_runs_as_written():
    field, edge_index, x0, y0 = setup()
    f = field.bind(edge_index)
    t = torch.linspace(0, 2.0, 3, dtype=torch.float64)
    xs, ys = odeint(f, (x0, y0), t, method="imex", options={"step_size": 0.1})
    assert xs.shape == ys.shape == (3, 30, 16)
    assert torch.equal(xs[0], x0) and torch.equal(ys[0], y0)

    txs, tys = torchdiffeq.odeint(f, (x0, y0), t, method="imex", options={"step_size": 0.1})
    assert torch.allclose(txs, xs, rtol=0, atol=1e-13) and torch.allclose(tys, ys, rtol=0, atol=1e-13)

    axs, ays = odeint(f, (x0, y0), t, method="dopri5", rtol=1e-7, atol=1e-9)
    reference, _ = odeint(f, (x0, y0), t, method="dopri8", rtol=1e-10, atol=1e-10)
    assert (axs - reference).abs().max() < 1e-4, "ReLU's kinks cost dopri5 some accuracy, not more"
    assert (axs - xs).abs().max() < 0.5, "imex at Δt = 0.1 is a first-order approximation of the same ODE"

    jxs, jys = odeint(f, (x0, y0), t, method="imex", options={"step_size": 0.1}, backward=True)
    assert torch.allclose(jxs, xs, rtol=0, atol=1e-13)


def test_adjoint_gradient_close_to_backprop():
    """With a smooth σ both are 4th-order accurate (with ReLU's kinks both drop to about first order)."""
    field, edge_index, x0, y0 = setup(activation=torch.tanh)
    f = field.bind(edge_index)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)

    def grads(adjoint):
        field.zero_grad()
        xs, _ = odeint(f, (x0, y0), t, method="rk4", options={"step_size": 0.05}, backward=adjoint)
        xs[-1].pow(2).sum().backward()
        return torch.cat([p.grad.flatten() for p in field.parameters()])

    exact, adjoint = grads(False), grads(True)
    assert (adjoint - exact).norm() <= 1e-6 * exact.norm()


def test_gat_coupling_through_odeint_and_float32():
    torch.manual_seed(0)
    edge_index = random_graph(20, 50)
    field = GraphCONField(GAT(8, heads=4), alpha=1.0, gamma=1.0)
    x0 = torch.randn(20, 8)
    xs, ys = odeint(field.bind(edge_index), (x0, torch.zeros_like(x0)), torch.tensor([0.0, 1.0]),
                    options={"step_size": 0.25})
    assert xs.dtype == torch.float32 and torch.isfinite(xs).all()


def test_importing_graphcon_ode_registers_imex_with_torchdiffeq():
    from torchdiffeq._impl.odeint import SOLVERS

    assert "imex" in SOLVERS
    assert "imex" in graphcon_ode.known_methods()


def test_stats_count_one_evaluation_per_imex_step():
    field, edge_index, x0, y0 = setup()
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    _, stats = odeint(field.bind(edge_index), (x0, y0), t, options={"step_size": 0.1}, return_stats=True)
    assert stats.steps == 10 and stats.nfe_forward == 10
    _, stats = odeint(field.bind(edge_index), (x0, y0), t, method="rk4", options={"step_size": 0.1},
                      return_stats=True)
    assert stats.steps == 10 and stats.nfe_forward == 40
