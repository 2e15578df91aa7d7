"""Cost of odeint's per-step finite check (the divergence error): forward + backward of 32 imex steps on a
20 000-node contextual-SBM graph, 64 channels, GraphCON-GCN, with the check and with it switched off, interleaved.

    python benchmarks/finite_check_cost.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

import solvers  # noqa: F401  (loads solvers.integrate)
from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.datasets.synthetic import contextual_sbm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    integrate = sys.modules["solvers.integrate"]
    data = contextual_sbm(num_nodes=20000, num_classes=5, homophily=0.5, signal=0.6, seed=0)
    torch.manual_seed(0)
    bound = GraphCONField(GCN(64), alpha=1.0, gamma=1.0).bind(data.edge_index)
    x0 = torch.randn(20000, 64)
    t = torch.tensor([0.0, 3.2])

    def solve() -> float:
        start = time.perf_counter()
        xs, _ = odeint(bound, (x0, x0), t, options={"step_size": 0.1})
        xs[-1].sum().backward()
        return time.perf_counter() - start

    check = integrate.check_finite
    solve()
    timings: dict[str, list[float]] = {"with check": [], "without": []}
    for _ in range(args.rounds):
        integrate.check_finite = check
        timings["with check"].append(solve())
        integrate.check_finite = lambda *unused: None
        timings["without"].append(solve())
    integrate.check_finite = check
    ratio = statistics.median(w / o for w, o in zip(timings["with check"], timings["without"]))
    print(", ".join(f"{k}: {statistics.median(v):.3f} s" for k, v in timings.items()), f"ratio {ratio:.3f}")


if __name__ == "__main__":
    main()
