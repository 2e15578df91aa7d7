"""Data-parallel ``graphcon-ode train`` with 1 and 2 processes on this machine: training samples (seed nodes) per
second.

Each run is ``torchrun --standalone --nproc_per_node=K -m graphcon_ode.cli train --distributed`` (gloo, one thread
per process) on a generated degree-corrected SBM, mini-batch (global batch ``--batch-size`` seeds split over the
ranks, fan-out ``--fanout``), GraphCON-GCN with 32 hidden channels and N = 8 steps, ``--epochs`` epochs without
evaluation; the rate is training nodes / seconds of the last epoch (from the checkpoint's history). The load
average at each run is recorded: the machine is shared.

    OMP_NUM_THREADS=1 python benchmarks/distributed.py --out results/distributed
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from graphcon_ode.results import markdown_table, write_atomic

COLUMNS = ["processes", "train_nodes", "epoch_seconds", "samples_per_second", "load_average"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/distributed")
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--fanout", type=int, nargs="+", default=[10, 5])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    out = Path(args.out)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    rows = []
    for processes in args.processes:
        folder = out / f"np{processes}"
        load = os.getloadavg()[0]
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={processes}", "-m", "graphcon_ode.cli", "train", "--dataset", "sbm",
                        "--nodes", str(args.nodes), "--hidden", "32", "--layers", "8", "--step-size", "0.5",
                        "--batch-size", str(args.batch_size), "--fanout", *map(str, args.fanout),
                        "--epochs", str(args.epochs), "--eval-every", "0", "--distributed", "--out", str(folder)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        state = torch.load(folder / "checkpoint.pt", weights_only=False)
        metrics = json.loads((folder / "metrics.json").read_text())
        seconds = state["history"][-1]["seconds"]
        rows.append({"processes": processes, "train_nodes": metrics["train_nodes"], "epoch_seconds": seconds,
                     "samples_per_second": metrics["train_nodes"] / seconds, "load_average": load})
        print(json.dumps(rows[-1]), flush=True)
    write_atomic(out / "results.json", json.dumps(rows, indent=1))
    write_atomic(out / "results.md", markdown_table(rows, COLUMNS))


if __name__ == "__main__":
    main()
