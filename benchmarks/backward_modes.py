"""The backward modes' time against backprop's: one forward + backward solve of N imex steps, interleaved.

The workload is GraphCON-GCN (eq. (4) with F(X) = S X W + b, eq. (5), σ = ReLU, weights shared over time) on a
plain random graph of ``--nodes`` nodes and ``--degree`` × nodes directed edges, X⁰ drawn, Y⁰ = 0, N = ``--steps``
steps of Δt = ``--step-size``, loss mean(X(T)²), gradients of X⁰ and the weights. Every mode solves the same
problem in the same process, round by round (so that load on the machine affects them alike); the script prints
each mode's median time, the median over rounds of its ratio to backprop's, its evaluations of the force, the
largest relative difference of its gradients from backprop's, and the load average, and writes a run record.

What the modes cost in force evaluations (F = forward, B = a backward of the force):

- backprop: N F + N B;
- checkpoint: N F, then per block its steps again (N F) + N B;
- reversible: N F, then per step one inverse force (N F) and the replayed step (N F + N B);
- exact_reversal: as reversible, in fixed-point arithmetic;
- adjoint: torchdiffeq's continuous adjoint, a VJP of the whole field per stage of the backward solve.

    python benchmarks/backward_modes.py [--nodes 50000] [--steps 32] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.allocator import keep_freed_memory
from graphcon_ode.results import write_atomic

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "performance" / "backward_modes.json"
MODES = ("backprop", "checkpoint", "reversible", "exact_reversal", "adjoint")
TARGETS = {"reversible": 1.6, "exact_reversal": 2.0, "adjoint": 4.0}
"""The most each mode may cost, as a multiple of backprop's time."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--degree", type=int, default=10, help="directed edges per node, drawn uniformly")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--step-size", type=float, default=0.125)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--out", type=Path, default=OUT, help=f"run record (default {OUT})")
    args = parser.parse_args()
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    modes = ["backprop", *(m for m in args.modes if m != "backprop")]

    generator = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, args.nodes, (2, args.degree * args.nodes), generator=generator)
    torch.manual_seed(0)
    field = GraphCONField(GCN(args.channels), alpha=args.alpha, gamma=1.0)
    bound = field.bind(edge_index, num_nodes=args.nodes)
    x0 = torch.randn(args.nodes, args.channels, generator=generator).requires_grad_(True)
    y0 = torch.zeros_like(x0)
    # the end time as the float32 grid holds it, so that every mode steps exactly N times
    end = float(torch.tensor(args.steps * args.step_size))
    t = torch.tensor([0.0, end])
    parameters = (x0, *field.parameters())

    def solve(mode: str) -> tuple[list[torch.Tensor], int, int]:
        for tensor in parameters:
            tensor.grad = None
        (xs, _), stats = odeint(bound, (x0, y0), t, method="imex", options={"step_size": args.step_size},
                                backward=mode, return_stats=True)
        xs[-1].square().mean().backward()
        return [tensor.grad.clone() for tensor in parameters], stats.nfe_forward, stats.nfe_backward

    reference, _, _ = solve("backprop")
    evaluations, difference = {}, {}
    for mode in modes:
        grads, forward, backward = solve(mode)
        evaluations[mode] = {"forward": forward, "backward": backward}
        difference[mode] = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(grads, reference))
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            start = time.perf_counter()
            solve(mode)
            times[mode].append(time.perf_counter() - start)
    load = os.getloadavg()
    ratios = {mode: statistics.median(a / b for a, b in zip(times[mode], times["backprop"])) for mode in modes}

    print(f"{args.nodes} nodes, {args.degree * args.nodes} directed edges, {args.channels} channels, N = {args.steps}, "
          f"dt = {args.step_size}, alpha = {args.alpha}, float32, {torch.get_num_threads()} thread(s), "
          f"torch {torch.__version__}, {args.rounds} interleaved rounds")
    print(f"{'mode':<16}{'median s':>10}{'ratio':>8}{'target':>8}{'evals fwd/bwd':>15}{'grad diff':>11}")
    for mode in modes:
        target = TARGETS.get(mode)
        print(f"{mode:<16}{statistics.median(times[mode]):>10.3f}{ratios[mode]:>8.2f}"
              f"{'' if target is None else f'{target:.1f}':>8}"
              f"{evaluations[mode]['forward']:>8}/{evaluations[mode]['backward']:<6}{difference[mode]:>11.1e}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    record = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "load_average": list(load),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "nodes": args.nodes,
        "edges": args.degree * args.nodes,
        "channels": args.channels,
        "steps": args.steps,
        "step_size": args.step_size,
        "alpha": args.alpha,
        "rounds": args.rounds,
        "seconds": times,
        "median_seconds": {mode: statistics.median(values) for mode, values in times.items()},
        "ratio_to_backprop": ratios,
        "targets": TARGETS,
        "met": {mode: ratios[mode] <= target for mode, target in TARGETS.items() if mode in ratios},
        "evaluations": evaluations,
        "gradient_difference": difference,
    }
    write_atomic(args.out, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
