"""Seconds per epoch of the heterophilous-set models (``graphcon-ode node-classification --dataset tolokers``).

One epoch is what ``fit_binary_node_classifier`` does per epoch: a training step (forward in training mode, BCE on
the training nodes, backward, Adam step) and one forward pass without gradients, scored by ROC AUC. Each model is
built by :func:`experiments.heterophily.build_model` from its settings (plus ``--hidden``/``--layers``/``--heads``
overrides); the first epoch (graph preprocessing) is timed apart, then the median of ``--repeats`` epochs, both as
wall-clock seconds and as CPU seconds of this process (``time.process_time``, one thread): on a shared machine the
wall clock grows with the load and the CPU time does not.

    python benchmarks/heterophily_epoch_time.py --dataset tolokers --model graphcon-gcn graphcon-gat --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from experiments.heterophily import BINARY, HETEROPHILOUS, MODELS, build_model, settings_for
from graphcon_ode.datasets import geom_gcn_split, load_dataset
from graphcon_ode.metrics import roc_auc
from graphcon_ode.training.tasks import TASKS


def epoch_seconds(model: torch.nn.Module, optimizer: torch.optim.Optimizer, data, train, val) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one epoch."""
    start, cpu = time.perf_counter(), time.process_time()
    model.train()
    optimizer.zero_grad()
    binary = TASKS["binary"]
    logit, target = binary.outputs(model(data.x, data.edge_index), data.y)
    binary.loss(logit[train], target[train]).backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        roc_auc(model(data.x, data.edge_index)[val], data.y[val])
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="tolokers", choices=[d for d in HETEROPHILOUS if d in BINARY])
    parser.add_argument("--model", nargs="+", default=["graphcon-gcn", "graphcon-gat"], choices=MODELS)
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--heads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = load_dataset(args.dataset, args.data_root)
    train, val, _ = geom_gcn_split(data, 0)
    overrides = {k: getattr(args, k) for k in ("hidden", "layers", "heads") if getattr(args, k) is not None}
    print(f"{args.dataset}: {data.num_nodes} nodes, {data.edge_index.shape[1]} directed edges; 1 thread")
    print("| model | hidden | layers | heads | first epoch, wall (s) | median epoch, wall (s) "
          "| median epoch, CPU (s) |\n|---|---|---|---|---|---|---|")
    for name in args.model:
        settings = settings_for(args.dataset, name, overrides)
        torch.manual_seed(0)
        model = build_model(name, settings, data.num_features, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
        first, _ = epoch_seconds(model, optimizer, data, train, val)
        times = [epoch_seconds(model, optimizer, data, train, val) for _ in range(args.repeats)]
        wall, cpu = (statistics.median(t[i] for t in times) for i in (0, 1))
        print(f"| {name} | {settings.hidden} | {settings.layers} | {settings.heads} | {first:.2f} | {wall:.2f} | "
              f"{cpu:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
