"""Training-step time of GraphCON-GCN (imex, backward "backprop") eager and under ``torch.compile(model)``, on one
CPU thread, interleaved: a Cora-sized random graph and a larger one. Writes one JSON record.

A step is zero_grad, forward, cross-entropy on every node, backward and an Adam update. The compiled model's
first calls (tracing and code generation) are timed apart as ``compile_s``. The load average is recorded beside
the timings, since a shared machine is rarely idle.

    python benchmarks/compile.py [--rounds 5] [--out docs/results/performance/compile.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from graphcon_ode.models import GraphCONNodeModel
from graphcon_ode.results import write_atomic

GRAPHS = {  # name: (nodes, edges, features, classes)
    "cora-sized": (2708, 10556, 1433, 7),
    "1e5 nodes": (100_000, 1_000_000, 32, 10),
}


def training_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                  edge_index: torch.Tensor, y: torch.Tensor) -> float:
    start = time.perf_counter()
    optimizer.zero_grad()
    F.cross_entropy(model(x, edge_index), y).backward()
    optimizer.step()
    return time.perf_counter() - start


def measure(name: str, rounds: int, layers: int, hidden: int) -> dict:
    nodes, edges, features, classes = GRAPHS[name]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(nodes, features, generator=g)
    edge_index = torch.randint(nodes, (2, edges), generator=g)
    y = torch.randint(classes, (nodes,), generator=g)
    runs = {}
    for mode in ("eager", "compiled"):
        torch.manual_seed(0)
        model = GraphCONNodeModel(features, hidden, classes, num_layers=layers, step_size=1.0, alpha=1.0, gamma=1.0)
        runs[mode] = (torch.compile(model) if mode == "compiled" else model,
                      torch.optim.Adam(model.parameters(), lr=1e-3))
    warmup = {mode: sum(training_step(*runs[mode], x, edge_index, y) for _ in range(2)) for mode in runs}
    times: dict[str, list[float]] = {mode: [] for mode in runs}
    for _ in range(rounds):
        for mode in runs:
            times[mode].append(training_step(*runs[mode], x, edge_index, y))
    eager, compiled = statistics.median(times["eager"]), statistics.median(times["compiled"])
    return {"graph": name, "nodes": nodes, "edges": edges, "features": features, "hidden": hidden,
            "layers": layers, "eager_s": eager, "compiled_s": compiled, "speedup": eager / compiled,
            "compile_s": warmup["compiled"] - warmup["eager"], "rounds": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--graphs", nargs="+", default=list(GRAPHS), choices=list(GRAPHS))
    parser.add_argument("--out", type=Path, default=Path("docs/results/performance/compile.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    results = [measure(name, args.rounds, args.layers, args.hidden) for name in args.graphs]
    record = {"torch": torch.__version__, "threads": 1, "load_before": load_before, "load_after": os.getloadavg(),
              "model": "GraphCONNodeModel, coupling gcn, method imex, backward backprop", "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, json.dumps(record, indent=2) + "\n")
    for r in results:
        print(f"{r['graph']}: eager {r['eager_s'] * 1e3:.1f} ms, compiled {r['compiled_s'] * 1e3:.1f} ms "
              f"(x{r['speedup']:.2f}), compile {r['compile_s']:.1f} s")
    print(f"load average before {load_before}, after {record['load_after']}")


if __name__ == "__main__":
    main()
