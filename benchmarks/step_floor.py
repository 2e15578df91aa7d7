"""One imex step of GraphCON-GCN, forward + backward through ``graphcon_ode.odeint``, against its floor.

The step is eq. (4) with F(X) = S X W + b (eq. (5)), S = D̂^{−1/2} Â D̂^{−1/2}, σ = ReLU:

    Y¹ = Y⁰ + Δt [σ(S X⁰ Wᵀ + b) − γ X⁰ − α Y⁰],    X¹ = X⁰ + Δt Y¹,    L = mean((X¹)²),

and its gradient with respect to X⁰, W and b. The library step takes L as ``F.mse_loss(X¹, 0)``, the spelling
whose backward is one pass (2X¹/numel), as the floor's is; ``square().mean()`` would add three passes of the
loss to the step. The floor is that computation written by hand without autograd:
the two CSR products (S·(X⁰Wᵀ) forward, Sᵀ·G backward) with ``torch.sparse.mm`` on the operator the bound field
caches, the three dense products with W (X⁰Wᵀ, G W, Gᵀ X⁰) and a few elementwise passes, in place wherever the
inputs may be overwritten. Both run on a plain random graph of ``--nodes`` nodes and ``--edges`` directed edges,
interleaved round by round (so that load on the machine affects them alike); the script prints their medians,
the median over rounds of the ratio step/floor, the minor page faults of each and the load average, and writes a
run record to ``--out``.

The script calls :func:`graphcon_ode.allocator.keep_freed_memory` first, as the ``graphcon-ode`` command does;
``--default-allocator`` leaves malloc as the environment sets it, to compare glibc's settings
(``MALLOC_MMAP_MAX_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``). ``--prototypes`` adds the
variants that take the step apart, each timed in the same rounds:

- ``field, no odeint``: Y¹ = Y⁰ + Δt·acceleration(X⁰, Y⁰), X¹ = X⁰ + Δt Y¹ on the bound field, under autograd,
  without ``odeint`` (no checks, no output stacking);
- ``in place, no odeint``: the same step under autograd with the floor's in-place updates
  (:func:`in_place_step`).

    python benchmarks/step_floor.py [--nodes 500000] [--edges 5000000] [--channels 32] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.allocator import keep_freed_memory
from graphcon_ode.results import write_atomic
from graphcon_ode.sparse import SparseOperator

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "performance" / "step_floor.json"
TARGET = 1.25
"""The step may cost at most this many times its floor."""


def floor_step(operator: SparseOperator, weight: Tensor, bias: Tensor, x: Tensor, y: Tensor, dt: float,
               alpha: float, gamma: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(L, ∂L/∂X⁰, ∂L/∂W, ∂L/∂b) of one step of eq. (4), by hand:

        A = σ(S X Wᵀ + b),  Y¹ = (1 − αΔt) Y + Δt A − γΔt X,  X¹ = X + Δt Y¹,  G = 2 X¹ / numel,
        G_F = Δt² G ⊙ [A > 0],  G_H = Sᵀ G_F,  ∂L/∂W = G_Hᵀ X,  ∂L/∂b = Σ_rows G_F,
        ∂L/∂X = G_H W + (1 − γΔt²) G.
    """
    a = torch.sparse.mm(operator.matrix, torch.mm(x, weight.t())).add_(bias).relu_()
    y1 = y.mul(1 - alpha * dt).add_(a, alpha=dt).sub_(x, alpha=gamma * dt)
    x1 = x.add(y1, alpha=dt)
    flat = x1.view(-1)
    loss = torch.dot(flat, flat) / flat.numel()
    g = x1.mul_(2 / flat.numel())
    g_f = torch.ops.aten.threshold_backward(g, a, 0).mul_(dt * dt)
    g_h = torch.sparse.mm(operator.transpose, g_f)
    grad_x = torch.mm(g_h, weight).add_(g, alpha=1 - gamma * dt * dt)
    return loss, grad_x, torch.mm(g_h.t(), x), g_f.sum(0)


def in_place_step(conv: torch.nn.Module, operator: SparseOperator, x: Tensor, y: Tensor, dt: float, alpha: float,
                  gamma: float) -> Tensor:
    """X¹ of eq. (4) under autograd, each update written in place into the tensor made before it."""
    a = (operator @ conv.lin(x)).add_(conv.bias).relu_()
    y1 = y.mul(1 - alpha * dt).add_(a, alpha=dt).sub_(x, alpha=gamma * dt)
    return x.add(y1, alpha=dt)


def timed(fn: Callable[[], None]) -> tuple[float, int]:
    """Seconds and minor page faults of one call."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500_000)
    parser.add_argument("--edges", type=int, default=5_000_000, help="directed edges, drawn uniformly")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--step-size", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--default-allocator", action="store_true",
                        help="do not call keep_freed_memory(); malloc as the environment sets it")
    parser.add_argument("--prototypes", action="store_true", help="also time the variants that take the step apart")
    parser.add_argument("--out", type=Path, default=OUT, help=f"run record (default {OUT})")
    args = parser.parse_args()
    allocator = False if args.default_allocator else keep_freed_memory()
    torch.set_num_threads(args.threads)

    generator = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, args.nodes, (2, args.edges), generator=generator)
    torch.manual_seed(0)
    # Δt as the float32 time t₁ holds it: with Δt = 0.05 and t₁ = float32(0.05) = 0.05 + 7.5e-10 the grid would
    # add a second step of 7.5e-10 and evaluate the field twice.
    alpha, gamma, dt = 0.5, 1.0, float(torch.tensor(args.step_size))
    field = GraphCONField(GCN(args.channels), alpha=alpha, gamma=gamma)
    bound = field.bind(edge_index, num_nodes=args.nodes)
    x0 = torch.randn(args.nodes, args.channels, generator=generator).requires_grad_(True)
    y0 = torch.zeros_like(x0)
    t = torch.tensor([0.0, dt])
    conv = field.coupling.layers[0]
    operator = bound._graph_args(x0)["operator"]
    parameters = (x0, conv.lin.weight, conv.bias)
    zero = torch.zeros(())

    def library_step() -> None:
        for tensor in parameters:
            tensor.grad = None
        (xs, _), stats = odeint(bound, (x0, y0), t, method="imex", options={"step_size": dt}, return_stats=True)
        F.mse_loss(xs[-1], zero.expand_as(xs[-1])).backward()
        if stats.steps != 1 or stats.nfe_forward != 1:
            raise RuntimeError(f"expected one step and one evaluation, got {stats.steps} and {stats.nfe_forward}")

    def floor() -> None:
        with torch.no_grad():
            floor_step(operator, conv.lin.weight, conv.bias, x0, y0, dt, alpha, gamma)

    variants = {"odeint imex step": library_step, "floor": floor}
    if args.prototypes:
        def field_step() -> None:
            for tensor in parameters:
                tensor.grad = None
            y1 = y0.add(bound.acceleration(t[0], x0, y0), alpha=dt)
            x1 = x0.add(y1, alpha=dt)
            F.mse_loss(x1, zero.expand_as(x1)).backward()

        def in_place() -> None:
            for tensor in parameters:
                tensor.grad = None
            x1 = in_place_step(conv, operator, x0, y0, dt, alpha, gamma)
            F.mse_loss(x1, zero.expand_as(x1)).backward()

        variants.update({"field, no odeint": field_step,
                         "in place, no odeint": in_place})

    library_step()
    expected = [tensor.grad.clone() for tensor in parameters]
    with torch.no_grad():
        gradients = {"floor": floor_step(operator, conv.lin.weight, conv.bias, x0, y0, dt, alpha, gamma)[1:]}
    for name, fn in variants.items():
        fn()
        if name != "floor":
            gradients[name] = [tensor.grad for tensor in parameters]
    difference = max(float((a - b).abs().max() / b.abs().max()) for got in gradients.values()
                     for a, b in zip(got, expected))
    times: dict[str, list[float]] = {name: [] for name in variants}
    faults: dict[str, list[int]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            seconds, count = timed(fn)
            times[name].append(seconds)
            faults[name].append(count)
    load = os.getloadavg()
    ratios = {name: statistics.median(a / b for a, b in zip(values, times["floor"]))
              for name, values in times.items() if name != "floor"}
    ratio = ratios["odeint imex step"]

    print(f"{args.nodes} nodes, {args.edges} directed edges ({operator.matrix._nnz()} nonzeros of S with self-loops),"
          f" {args.channels} channels, float32, {torch.get_num_threads()} thread(s), torch {torch.__version__}, "
          f"keep_freed_memory: {allocator}, {args.rounds} interleaved rounds")
    print(f"gradients of every variant against the odeint step's: largest relative difference {difference:.1e}")
    print(f"{'variant':<34}{'median ms':>10}{'minor faults':>14}{'ratio to floor':>16}")
    for name, values in times.items():
        print(f"{name:<34}{statistics.median(values) * 1e3:>10.1f}{statistics.median(faults[name]):>14.0f}"
              f"{ratios.get(name, 1.0):>16.3f}")
    verdict = "met" if ratio <= TARGET else "missed"
    print(f"step / floor = {ratio:.3f} (target <= {TARGET}: {verdict}); load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")
    record = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "load_average": list(load),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "keep_freed_memory": allocator,
        "nodes": args.nodes,
        "edges": args.edges,
        "nonzeros": operator.matrix._nnz(),
        "channels": args.channels,
        "rounds": args.rounds,
        "seconds": times,
        "minor_page_faults": faults,
        "median_seconds": {name: statistics.median(values) for name, values in times.items()},
        "ratio_to_floor": ratios,
        "target": TARGET,
        "met": ratio <= TARGET,
        "gradient_difference": difference,
    }
    write_atomic(args.out, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
