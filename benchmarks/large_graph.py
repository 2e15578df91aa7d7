"""Full-batch GraphCON-GCN training on a generated 10⁶-node graph: seconds per epoch and peak memory against depth.

The graph is :func:`graphcon_ode.datasets.degree_corrected_sbm` (power-law degrees, exponent 2.5, edge homophily
0.7, 10 classes, 32 features, average degree 10: ~10⁷ directed edges). The model is a GraphCON-GCN
(:class:`graphcon_ode.GraphCONNodeModel`, 32 hidden channels, weights shared over time, α = 0.5, γ = 1,
Δt = 0.05, the workload of ``graphcon-ode memory-depth``) and one epoch is: bind the graph and build its operator,
forward, cross-entropy on the training nodes, backward, one Adam step.

Every (mode, depth) point runs in a fresh child process (:func:`experiments.memory.run_isolated`: peak = growth of
the resident set) under an address-space limit of ``--limit-gib`` above the child's start, so a run that would
need more fails with a ``MemoryError`` inside the child and is reported as "out of memory at N" instead of
exhausting the machine. Backprop's memory grows by one step's activations per step; its peak at depths it cannot
reach is predicted from the per-step slope measured between its two smallest depths and marked "predicted".
Rows are recorded as they finish (``--out DIR/runs.json``), so a killed run continues where it stopped.

    OMP_NUM_THREADS=1 python benchmarks/large_graph.py --out results/large-graph [--nodes 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from experiments.harness import RunStore
from experiments.memory import PeakMemory, run_isolated
from graphcon_ode import GraphCONNodeModel
from graphcon_ode.datasets import degree_corrected_sbm
from graphcon_ode.results import markdown_table, write_atomic

MODES = ("backprop", "checkpoint", "reversible", "exact_reversal")
DEPTHS = (8, 64, 256)
SLOPE_DEPTHS = (2, 4)
COLUMNS = ["mode", "steps", "seconds", "build_seconds", "peak_mib", "note"]


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmSize")


def epoch(data, mode: str, steps: int, channels: int, seed: int, coupling: str = "gcn") -> dict[str, Any]:
    """One full-batch training epoch (graph binding included); seconds and peak resident-set growth."""
    torch.manual_seed(seed)
    model = GraphCONNodeModel(data.num_features, channels, int(data.y.max()) + 1, num_layers=steps, step_size=0.05,
                              alpha=0.5, gamma=1.0, backward=mode, coupling=coupling)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    with PeakMemory(torch.device("cpu")) as peak:
        start = time.perf_counter()
        with torch.no_grad():
            model.bound_field(data.edge_index, data.x).force(torch.zeros(()), model.encode(data.x))
        built = time.perf_counter()
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data.x, data.edge_index)[data.train_mask], data.y[data.train_mask])
        loss.backward()
        optimizer.step()
        done = time.perf_counter()
    return {"seconds": done - built, "build_seconds": built - start, "peak_mib": peak.mib, "loss": float(loss.detach())}


def outcome_note(result: dict[str, Any], steps: int, limit_gib: float) -> dict[str, str]:
    """``{"note": …}`` for a point that ran out of memory or failed in its child process, else nothing."""
    if result.get("out_of_memory"):
        return {"note": f"out of memory at N={steps} (limit {limit_gib:g} GiB)"}
    if "error" in result:
        return {"note": "error: " + result["error"].strip().splitlines()[-1][:160]}
    return {}


def limited(limit_bytes: int, data, mode: str, steps: int, channels: int, seed: int,
            coupling: str = "gcn") -> dict[str, Any]:
    """:func:`epoch` under an address-space limit of ``limit_bytes`` above the child's current size."""
    ceiling = _vm_size_bytes() + limit_bytes
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    try:
        return epoch(data, mode, steps, channels, seed, coupling)
    except (MemoryError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and "allocate" not in str(error):
            raise
        return {"out_of_memory": True, "error": str(error).splitlines()[0][:200]}


def predicted_backprop(store: RunStore, steps: int) -> dict[str, Any] | None:
    """Backprop's peak at ``steps`` from the slope between its two smallest measured depths (None without two)."""
    points = sorted((r["steps"], r["peak_mib"]) for r in store.records.values()
                    if r["mode"] == "backprop" and r.get("peak_mib") is not None and not r.get("predicted"))
    if len(points) < 2:
        return None
    (n1, m1), (n2, m2) = points[:2]
    slope = (m2 - m1) / (n2 - n1)
    return {"peak_mib": m2 + slope * (steps - n2), "slope_mib_per_step": slope}


def predicted_seconds(store: RunStore, mode: str, steps: int) -> float:
    """The epoch time of ``mode`` at ``steps``, scaled linearly in N from its deepest measured run (0 without one)."""
    measured = sorted((r["steps"], r["seconds"]) for r in store.records.values()
                      if r["mode"] == mode and r.get("seconds") is not None)
    if not measured:
        return 0.0
    depth, seconds = measured[-1]
    return seconds * steps / depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/large-graph")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--degree", type=float, default=10.0)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--limit-gib", type=float, default=8.0, help="address-space limit of each measurement")
    parser.add_argument("--max-seconds", type=float, default=1800.0,
                        help="skip a point whose time, scaled linearly in N from the mode's deepest run, exceeds this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    store = RunStore(out)
    start = time.perf_counter()
    data = degree_corrected_sbm(args.nodes, num_classes=10, average_degree=args.degree, homophily=0.7,
                                num_features=args.channels, seed=args.seed)
    graph = {"nodes": data.num_nodes, "edges": data.num_edges, "generate_seconds": time.perf_counter() - start,
             "load_average_at_start": os.getloadavg()}
    print(json.dumps(graph), flush=True)
    limit = int(args.limit_gib * 2**30)
    plan = [("backprop", n) for n in SLOPE_DEPTHS if "backprop" in args.modes]
    plan += [(mode, n) for n in args.depths for mode in args.modes]
    for mode, steps in plan:
        key = f"{mode}/{steps}"
        if store.done(key):
            continue
        row: dict[str, Any] = {"mode": mode, "steps": steps, "load_average": os.getloadavg()[0]}
        prediction = predicted_backprop(store, steps) if mode == "backprop" else None
        expected = predicted_seconds(store, mode, steps)
        if prediction is not None and prediction["peak_mib"] > args.limit_gib * 1024:
            row.update(prediction, predicted=True,
                       note=f"predicted from the per-step slope (over the {args.limit_gib:g} GiB limit)")
        elif expected > args.max_seconds:
            row.update(predicted_seconds=expected, note=f"not run: predicted {expected:.0f} s > --max-seconds")
        else:
            result = run_isolated(lambda m=mode, n=steps: limited(limit, data, m, n, args.channels, args.seed))
            row.update(result, **outcome_note(result, steps, args.limit_gib))
        store.record(key, row)
        print(json.dumps(row), flush=True)
    rows = sorted(store.records.values(), key=lambda r: (MODES.index(r["mode"]), r["steps"]))
    write_atomic(out / "graph.json", json.dumps(graph, indent=1))
    write_atomic(out / "results.md", markdown_table(rows, COLUMNS))


if __name__ == "__main__":
    main()
