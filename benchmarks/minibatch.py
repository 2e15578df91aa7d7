"""Mini-batch against full-batch GraphCON-GCN training on a generated graph: seed nodes per second, and test
accuracy after the same training-time budget.

The graph is :func:`graphcon_ode.datasets.degree_corrected_sbm` (default 10⁶ nodes, average degree 10, edge
homophily 0.7, 10 classes, 32 features with signal 0.5, 10 % training nodes). The model is a GraphCON-GCN with
32 hidden channels, N = 8 steps of Δt = 0.5, α = γ = 1, backprop, Adam (lr 0.01). Full-batch: one step per
epoch on all training nodes. Mini-batch: ``--batch-size`` seeds per step, neighbourhoods sampled with fan-out
``--fanout`` by :func:`graphcon_ode.sampling.neighbor_loader` (the pure-PyTorch sampler where PyG's compiled one
is absent), loss at the seeds. Each regime trains until ``--budget`` seconds of training time have passed
(sampling included, evaluation excluded); then one full-graph forward pass scores the test nodes.

    OMP_NUM_THREADS=1 python benchmarks/minibatch.py --out results/minibatch [--nodes 1000000 --budget 600]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from graphcon_ode import GraphCONNodeModel
from graphcon_ode.datasets import degree_corrected_sbm
from graphcon_ode.results import markdown_table, write_atomic
from graphcon_ode.sampling import has_pyg_sampler, neighbor_loader

COLUMNS = ["regime", "steps", "seeds", "train_seconds", "seeds_per_second", "test_accuracy", "load_average"]


def make_model(data) -> GraphCONNodeModel:
    torch.manual_seed(0)
    return GraphCONNodeModel(data.num_features, 32, int(data.y.max()) + 1, num_layers=8, step_size=0.5)


@torch.no_grad()
def test_accuracy(model, data) -> float:
    model.eval()
    prediction = model(data.x, data.edge_index).argmax(-1)
    return float((prediction[data.test_mask] == data.y[data.test_mask]).float().mean())


def run(data, regime: str, budget: float, batch_size: int, fanout: list[int]) -> dict:
    model = make_model(data)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_nodes = data.train_mask.nonzero().flatten()
    loader = neighbor_loader(data, fanout, input_nodes=train_nodes, batch_size=batch_size, shuffle=True, seed=0)
    spent, steps, seeds = 0.0, 0, 0
    while spent < budget:
        batches = iter(loader) if regime == "mini-batch" else iter([None])
        while spent < budget:
            start = time.perf_counter()
            batch = next(batches, None)
            if batch is None and regime == "mini-batch":
                break
            model.train()
            optimizer.zero_grad()
            if regime == "mini-batch":
                logits, labels = model(batch.x, batch.edge_index)[:batch.batch_size], batch.y[:batch.batch_size]
            else:
                logits, labels = model(data.x, data.edge_index)[train_nodes], data.y[train_nodes]
            F.cross_entropy(logits, labels).backward()
            optimizer.step()
            spent += time.perf_counter() - start
            steps += 1
            seeds += labels.numel()
            if regime == "full-batch":
                break
    return {"regime": regime, "steps": steps, "seeds": seeds, "train_seconds": spent,
            "seeds_per_second": seeds / spent, "test_accuracy": test_accuracy(model, data),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/minibatch")
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds per regime")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanout", type=int, nargs="+", default=[10, 5])
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = degree_corrected_sbm(args.nodes, num_classes=10, average_degree=10, homophily=0.7, seed=0)
    header = {"nodes": data.num_nodes, "edges": data.num_edges, "pyg_sampler": has_pyg_sampler(),
              "batch_size": args.batch_size, "fanout": args.fanout, "budget": args.budget}
    print(json.dumps(header), flush=True)
    rows = []
    for regime in ("mini-batch", "full-batch"):
        rows.append(run(data, regime, args.budget, args.batch_size, args.fanout))
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    write_atomic(out / "results.json", json.dumps({"setup": header, "rows": rows}, indent=1))
    write_atomic(out / "results.md", markdown_table(rows, COLUMNS))


if __name__ == "__main__":
    main()
