"""Seconds per epoch and peak memory of GraphCON-GCN and GraphCON-GAT on tolokers (11 758 nodes, 1.04 M edges).

The graph is PyG's ``HeterophilousGraphDataset(root, "Tolokers")`` read from ``DATA_ROOT/tolokers/raw/tolokers.npz``
(linked into the library's cache root, where PyG writes its processed file). Each point is one full-batch training
epoch of :func:`large_graph.epoch` (32 hidden channels, α = 0.5, γ = 1, Δt = 0.05, operator built inside the epoch
and timed apart) in a fresh child process under an address-space limit, for depths 8 and 64 and the backward modes
backprop and reversible.

    OMP_NUM_THREADS=1 python benchmarks/tolokers.py --data-root ../shared/data --out results/tolokers
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
from large_graph import limited, outcome_note
from torch_geometric.datasets import HeterophilousGraphDataset

from experiments.harness import RunStore
from experiments.memory import run_isolated
from graphcon_ode.datasets import MissingDatasetError, resolve_data_root
from graphcon_ode.datasets.storage import cache_root
from graphcon_ode.results import markdown_table, write_atomic

COLUMNS = ["coupling", "mode", "steps", "seconds", "build_seconds", "peak_mib", "load_average", "note"]


def load_tolokers(data_root: str | None):
    root = resolve_data_root(data_root)
    raw = root / "tolokers" / "raw" / "tolokers.npz"
    if not raw.is_file():
        raise MissingDatasetError(f"tolokers: raw file missing: tolokers.npz. Put it in {raw.parent}")
    cache = cache_root(root)
    link = cache / "tolokers" / "raw" / "tolokers.npz"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(raw.resolve())
    data = HeterophilousGraphDataset(str(cache), "Tolokers")[0]
    data.train_mask = data.train_mask[:, 0]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default="results/tolokers")
    parser.add_argument("--depths", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--couplings", nargs="+", default=["gcn", "gat"])
    parser.add_argument("--modes", nargs="+", default=["backprop", "reversible"])
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--limit-gib", type=float, default=8.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_tolokers(args.data_root)
    print(json.dumps({"nodes": data.num_nodes, "edges": data.num_edges}), flush=True)
    store = RunStore(Path(args.out))
    for steps in args.depths:
        for coupling in args.couplings:
            for mode in args.modes:
                key = f"{coupling}/{mode}/{steps}"
                if store.done(key):
                    continue
                row = {"coupling": coupling, "mode": mode, "steps": steps, "load_average": os.getloadavg()[0]}
                result = run_isolated(lambda c=coupling, m=mode, n=steps: limited(
                    int(args.limit_gib * 2**30), data, m, n, args.channels, 0, c))
                row.update(result, **outcome_note(result, steps, args.limit_gib))
                store.record(key, row)
                print(json.dumps(row), flush=True)
    write_atomic(Path(args.out) / "results.md", markdown_table(list(store.records.values()), COLUMNS))


if __name__ == "__main__":
    main()
