"""odeint(method="imex") against eq. (4) written by hand as a plain loop: forward + backward time, interleaved.

Every variant runs the same GraphCON-GCN layer (same W, b and normalised graph S = D̂^{−1/2} Â D̂^{−1/2}) for N steps
of eq. (4) on a random graph and backpropagates a scalar loss:

- ``library``: ``graphcon_ode.odeint(field, ..., method="imex")``, the library's own loop;
- ``torchdiffeq``: ``torchdiffeq.odeint(field, ..., method="imex")``, the same step inside torchdiffeq's fixed grid;
- ``hand, same operator``: eq. (4) written plainly (``y + dt * (relu(F(x)) - gamma * x - alpha * y)``) with
  F(X) = S (X W) + b applied by the operator the library caches (CSR S and Sᵀ);
- ``hand, fused``: the same loop with the updates fused in place as the library writes them
  (``y.add(σ(F(x)).sub(x, alpha=γ).sub_(y, alpha=α), alpha=Δt)``): the ratio to it is the ODE machinery's overhead
  with the arithmetic identical;
- ``hand, PyG scatter``: the loop with PyG's ``GCNConv`` propagating over the normalised edge list (normalisation
  cached once), i.e. what the same model costs written with the PyG layer as it comes.

Repeats are interleaved (each variant once per round, in turn) so that load on the machine affects all alike; the
script prints each variant's median and the medians over rounds of its ratios to the two same-operator hand loops,
and the largest difference of its gradient from the plain hand loop's.

    python benchmarks/imex_vs_loop.py [--nodes 20000] [--channels 64] [--steps 32] [--step-size 0.1] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torchdiffeq
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.allocator import keep_freed_memory
from graphcon_ode.datasets.synthetic import contextual_sbm


def hand_loop(coupling: Callable[[Tensor], Tensor], x: Tensor, y: Tensor, steps: int, dt: float, alpha: float,
              gamma: float) -> Tensor:
    """Yⁿ = Yⁿ⁻¹ + Δt[σ(F(Xⁿ⁻¹)) − γXⁿ⁻¹ − αYⁿ⁻¹],  Xⁿ = Xⁿ⁻¹ + ΔtYⁿ  (eq. (4))."""
    for _ in range(steps):
        y = y + dt * (torch.relu(coupling(x)) - gamma * x - alpha * y)
        x = x + dt * y
    return x


def fused_hand_loop(coupling: Callable[[Tensor], Tensor], x: Tensor, y: Tensor, steps: int, dt: float,
                    alpha: float, gamma: float) -> Tensor:
    """Eq. (4) as :func:`hand_loop`, each update one fused operation."""
    for _ in range(steps):
        y = y.add(torch.relu(coupling(x)).sub(x, alpha=gamma).sub_(y, alpha=alpha), alpha=dt)
        x = x.add(y, alpha=dt)
    return x


def timed(fn: Callable[[], None], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--step-size", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    keep_freed_memory()

    device = torch.device(args.device)
    data = contextual_sbm(num_nodes=args.nodes, num_features=args.channels, homophily=0.5, seed=0)
    edge_index = data.edge_index.to(device)
    torch.manual_seed(0)
    field = GraphCONField(GCN(args.channels), alpha=1.0, gamma=1.0).to(device)
    bound = field.bind(edge_index)
    x0 = torch.randn(args.nodes, args.channels, device=device, requires_grad=True)
    dt, steps = args.step_size, args.steps
    t = torch.tensor([0.0, steps * dt], device=device)
    conv = field.coupling.layers[0]
    operator = bound._graph_args(x0)["operator"]
    norm_index, norm_weight = gcn_norm(edge_index, None, args.nodes, add_self_loops=True)

    def same_operator(x: Tensor) -> Tensor:
        return operator @ conv.lin(x) + conv.bias

    def pyg_scatter(x: Tensor) -> Tensor:
        return conv(x, norm_index, norm_weight)

    def backward(x: Tensor) -> None:
        x.square().mean().backward()

    variants: dict[str, Callable[[], None]] = {
        "library": lambda: backward(odeint(bound, (x0, x0), t, method="imex", options={"step_size": dt})[0][-1]),
        "torchdiffeq": lambda: backward(
            torchdiffeq.odeint(bound, (x0, x0), t, method="imex", options={"step_size": dt})[0][-1]),
        "hand, same operator": lambda: backward(hand_loop(same_operator, x0, x0, steps, dt, 1.0, 1.0)),
        "hand, fused": lambda: backward(fused_hand_loop(same_operator, x0, x0, steps, dt, 1.0, 1.0)),
        "hand, PyG scatter": lambda: backward(hand_loop(pyg_scatter, x0, x0, steps, dt, 1.0, 1.0)),
    }
    outputs = {name: None for name in variants}
    for name, fn in variants.items():
        x0.grad = None
        fn()
        outputs[name] = x0.grad.clone()
    reference = outputs["hand, same operator"]
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            times[name].append(timed(fn, device))
    print(f"device {device}, {args.nodes} nodes, {edge_index.shape[1]} edges, {args.channels} channels, {steps} steps "
          f"of Δt = {dt}, forward + backward, {args.repeats} interleaved rounds, torch threads "
          f"{torch.get_num_threads()}")
    baselines = ("hand, same operator", "hand, fused")
    print(f"{'variant':<22}{'median ms':>10}" + "".join(f"{'ratio to ' + b:>30}" for b in baselines)
          + f"{'max |Δ grad|':>14}")
    for name, values in times.items():
        ratios = [statistics.median(a / b for a, b in zip(values, times[base])) for base in baselines]
        error = float((outputs[name] - reference).abs().max())
        print(f"{name:<22}{statistics.median(values) * 1e3:>10.1f}" + "".join(f"{r:>30.3f}" for r in ratios)
              + f"{error:>14.2e}")


if __name__ == "__main__":
    main()
