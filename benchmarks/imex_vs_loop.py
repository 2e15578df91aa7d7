"""odeint(method="imex") against a hand-written eq. (4) loop with the same PyG layer: forward + backward time.

Both run the same GraphCON-GCN layer (same weights, same normalised graph) for N steps on a random graph and
backpropagate a scalar loss; repeats are interleaved (A, B, A, B, …) so that machine load affects both alike.
Prints the median time of each and the median of the per-pair ratios.

    python benchmarks/imex_vs_loop.py [--nodes 20000] [--channels 64] [--steps 32] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.synthetic import contextual_sbm


def hand_loop(conv, graph_args, x, y, steps: int, dt: float, alpha: float, gamma: float):
    """Y^n = Y^{n−1} + Δt[σ(F(X^{n−1})) − γX^{n−1} − αY^{n−1}],  X^n = X^{n−1} + Δt Y^n."""
    for _ in range(steps):
        y = y + dt * (torch.relu(conv(x, **graph_args)) - gamma * x - alpha * y)
        x = x + dt * y
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    device = torch.device(args.device)
    data = contextual_sbm(num_nodes=args.nodes, num_features=args.channels, homophily=0.5, seed=0)
    edge_index = data.edge_index.to(device)
    field = GraphCONField(GCN(args.channels), alpha=1.0, gamma=1.0).to(device)
    bound = field.bind(edge_index)
    x0 = torch.randn(args.nodes, args.channels, device=device, requires_grad=True)
    dt = 0.1
    t = torch.tensor([0.0, args.steps * dt], device=device)
    conv = field.coupling.layers[0]
    graph_args = bound._graph_args(x0)

    def library():
        xs, _ = odeint(bound, (x0, x0), t, method="imex", options={"step_size": dt})
        xs[-1].square().mean().backward()

    def loop():
        hand_loop(conv, graph_args, x0, x0, args.steps, dt, 1.0, 1.0).square().mean().backward()

    def timed(fn) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    library(), loop()
    lib_times, loop_times = [], []
    for _ in range(args.repeats):
        lib_times.append(timed(library))
        loop_times.append(timed(loop))
    ratios = [a / b for a, b in zip(lib_times, loop_times)]
    print(f"device {device}, {args.nodes} nodes, {bound.edge_index.shape[1]} edges, {args.channels} channels, "
          f"{args.steps} steps, {args.repeats} interleaved repeats, torch threads {torch.get_num_threads()}")
    print(f"odeint imex      median {statistics.median(lib_times) * 1e3:8.1f} ms")
    print(f"hand eq.(4) loop median {statistics.median(loop_times) * 1e3:8.1f} ms")
    print(f"ratio (median of pairs) {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
