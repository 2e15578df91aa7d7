"""Graph-level (and inductive multi-graph) training for ``graphcon-ode train``: datasets of many graphs.

A dataset of :data:`graphcon_ode.datasets.graph.GRAPH_DATASETS` trains in mini-batches of whole graphs. Per epoch
the training graphs are permuted with a generator seeded by seed + epoch (the permutation ``DistributedSampler``
draws) and cut into consecutive global batches of ``--batch-size B`` graphs (:data:`DEFAULT_BATCH` without it), the
last one shorter; every rank takes every global step, on its contiguous share of the step's graphs
(:func:`graphcon_ode.training.distributed.share_of`, possibly empty when a batch has fewer graphs than ranks).
Nothing is padded or dropped, so the K ranks' shares of step i are the single process's batch i. Rank r's loss is
the sum of its per-graph (per-node for PPI) losses over the count n_i of the whole global batch (all-reduced), and
the gradients are summed over the ranks (:func:`graphcon_ode.training.distributed.reduce_gradients`):
Σ_r ∇(Σ_{g ∈ S_r} ℓ_g / n_i) = ∇ mean_{g ∈ batch i} ℓ_g, the single process's step. Dropout masks are the one
exception: each rank draws them for its own graphs from its own stream, so with dropout the K-process step is a
valid step but not the single process's (without dropout it is, to rounding).

Losses by task: regression L1 (ZINC's MAE), classification cross-entropy, multi-label ``BCEWithLogitsLoss``
(PPI). Metrics: MAE, accuracy, micro-F1.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from graphcon_ode.datasets.graph import GRAPH_DATASETS, GraphDataset, load_graph_dataset
from graphcon_ode.models import names
from graphcon_ode.training.distributed import Context, reduce_gradients, share_of

DEFAULT_BATCH = 128


def is_graph_dataset(name: str) -> bool:
    return name in GRAPH_DATASETS


def load(args: argparse.Namespace) -> GraphDataset:
    return load_graph_dataset(args.dataset, args.data_root)


def build_model(args: argparse.Namespace, dataset: GraphDataset) -> nn.Module:
    """The model ``--model`` (:mod:`graphcon_ode.models.names`): a graph-level model with a pooled readout for
    graph targets, a node-level one for per-node outputs (PPI)."""
    settings = {"num_layers": args.layers, "dropout": args.dropout, "input_dropout": args.input_dropout,
                "step_size": args.step_size, "alpha": args.alpha, "gamma": args.gamma, "heads": args.heads,
                "step_dropout": args.step_dropout, "method": args.method, "backward": args.backward}
    if dataset.level != "node":
        settings["atom_vocabulary"] = dataset.atom_vocabulary
    return names.build_model(args.model, dataset.num_features, args.hidden, dataset.num_classes,
                             table="node" if dataset.level == "node" else "graph", **settings)


def predict(model: nn.Module, batch: Any, level: str) -> Tensor:
    """The model's outputs on a batch; float features in the model's dtype, integer types as they are."""
    x = batch.x.to(next(model.parameters()).dtype) if batch.x.is_floating_point() else batch.x
    if level == "node":
        return model(x, batch.edge_index)
    return model(x, batch.edge_index, batch.batch, num_graphs=batch.num_graphs)


def loss_sum(output: Tensor, target: Tensor, task: str) -> tuple[Tensor, int]:
    """(sum of per-example losses, number of examples)."""
    if task == "regression":
        return F.l1_loss(output.reshape(-1), target.reshape(-1).to(output.dtype), reduction="sum"), target.numel()
    if task == "classification":
        return F.cross_entropy(output, target.reshape(-1), reduction="sum"), target.numel()
    per_node = F.binary_cross_entropy_with_logits(output, target.to(output.dtype), reduction="none").mean(-1)
    return per_node.sum(), per_node.numel()


def global_batches(count: int, batch_size: int, seed: int, epoch: int) -> list[Tensor]:
    """The epoch's global batches: positions of the ``count`` training graphs permuted by a generator seeded with
    seed + epoch, cut into consecutive runs of ``batch_size`` (the last one shorter)."""
    return list(torch.randperm(count, generator=torch.Generator().manual_seed(seed + epoch)).split(batch_size))


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, dataset: GraphDataset, args: argparse.Namespace,
                epoch: int, context: Context) -> float:
    """One pass over the training graphs, this rank's share of every global batch; returns the mean loss per global
    batch (module docstring)."""
    model.train()
    device = context.device
    batches = global_batches(len(dataset.train), args.batch_size or DEFAULT_BATCH, args.seed, epoch)
    total = torch.zeros((), dtype=torch.float64, device=device)
    for positions in batches:
        optimizer.zero_grad(set_to_none=True)
        chosen = positions[share_of(positions.numel(), context)].tolist()
        summed, count = torch.zeros((), dtype=torch.float64, device=device), 0
        if chosen:
            batch = Batch.from_data_list([dataset.train[i] for i in chosen]).to(device)
            summed, count = loss_sum(predict(model, batch, dataset.level), batch.y, dataset.task)
        count = torch.tensor(float(count), device=device)
        if context.world > 1:
            dist.all_reduce(count)
        loss = summed / count
        if chosen:
            loss.backward()
        reduce_gradients(model, context)
        optimizer.step()
        total += loss.detach().double()
    if context.world > 1:
        dist.all_reduce(total)
    return float(total) / max(len(batches), 1)


@torch.no_grad()
def evaluate(model: nn.Module, dataset: GraphDataset, device: torch.device) -> dict[str, float]:
    """The dataset's metric (MAE, accuracy or micro-F1) on the validation and test graphs."""
    model.eval()
    scores = {}
    for name, graphs in (("val", dataset.val), ("test", dataset.test)):
        hits = errors = true_positive = predicted = actual = count = 0.0
        for batch in DataLoader(graphs, batch_size=256):
            batch = batch.to(device)
            output = predict(model, batch, dataset.level)
            if dataset.task == "regression":
                errors += float((output.reshape(-1) - batch.y.reshape(-1)).abs().sum())
                count += batch.y.numel()
            elif dataset.task == "classification":
                hits += float((output.argmax(-1) == batch.y.reshape(-1)).sum())
                count += batch.y.numel()
            else:
                positive, truth = output > 0, batch.y > 0.5
                true_positive += float((positive & truth).sum())
                predicted += float(positive.sum())
                actual += float(truth.sum())
        if dataset.task == "regression":
            scores[name] = errors / count
        elif dataset.task == "classification":
            scores[name] = hits / count
        else:
            scores[name] = 2 * true_positive / max(predicted + actual, 1.0)
    return scores
