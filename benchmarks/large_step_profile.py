"""Where one GraphCON-GCN step goes on a generated 10⁶-node, ~10⁷-edge graph: ``torch.profiler`` table of one imex
step of the bound field (forward and backward) with the operator already built, and the time of building it.

The claim checked: once bound, a step costs the sparse products S·(XW) (forward) and Sᵀ·G (backward) plus
O(n·m) dense work; nothing scales with the edges but the two products.

    OMP_NUM_THREADS=1 python benchmarks/large_step_profile.py [--nodes 1000000] [--steps 4]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.profiler import ProfilerActivity, profile

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.allocator import keep_freed_memory
from graphcon_ode.datasets import degree_corrected_sbm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    keep_freed_memory()
    torch.set_num_threads(1)
    data = degree_corrected_sbm(args.nodes, average_degree=10, num_features=args.channels, seed=0)
    torch.manual_seed(0)
    field = GraphCONField(GCN(args.channels), alpha=0.5, gamma=1.0)
    start = time.perf_counter()
    bound = field.bind(data.edge_index)
    with torch.no_grad():
        bound.force(torch.zeros(()), data.x)
    print(f"nodes {data.num_nodes}, edges {data.num_edges}, bind + operator build + one force: "
          f"{time.perf_counter() - start:.2f} s, load average {os.getloadavg()[0]:.1f}")
    x0 = data.x.clone().requires_grad_(True)
    t = torch.tensor([0.0, 0.05 * args.steps])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        (xs, _) = odeint(bound, (x0, torch.zeros_like(x0)), t, method="imex", options={"step_size": 0.05})
        xs[-1].pow(2).mean().backward()
    seconds = time.perf_counter() - start
    print(f"{args.steps} steps forward + backward: {seconds:.2f} s ({seconds / args.steps:.2f} s per step)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
