"""Graph-level (and inductive multi-graph) training for ``graphcon-ode train``: datasets of many graphs.

A dataset of :data:`graphcon_ode.datasets.graph.GRAPH_DATASETS` trains in mini-batches of whole graphs from PyG's
``DataLoader``; under ``--distributed`` each rank draws its graphs through ``DistributedSampler``. The sampler
permutes the training graphs with (seed, epoch) and gives rank r the positions r, r + K, r + 2K, … of that
permutation, so with ``--batch-size B`` read as the global batch (B/K graphs per rank), step i of the K ranks
together covers positions iB … (i + 1)B − 1: the global batch a single process takes at step i. Each rank's
loss is the sum of its per-graph (per-node for PPI) losses over the global batch's count, and the gradients are
summed over the ranks (:func:`graphcon_ode.training.distributed.reduce_gradients`), so K processes take the single
process's steps.

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
from torch.utils.data import DistributedSampler
from torch_geometric.loader import DataLoader

from graphcon_ode.datasets.graph import GRAPH_DATASETS, GraphDataset, load_graph_dataset
from graphcon_ode.models import names


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


def loader(dataset: GraphDataset, args: argparse.Namespace, rank: int, world: int) -> DataLoader:
    if args.batch_size is not None and args.batch_size % world:
        raise ValueError(f"batch_size: the global batch {args.batch_size} must split evenly over {world} processes")
    per_rank = (args.batch_size or 128) // world
    sampler = DistributedSampler(dataset.train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    return DataLoader(dataset.train, batch_size=per_rank, sampler=sampler)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, dataset: GraphDataset, batches: DataLoader,
                epoch: int, device: torch.device, world: int, reduce_gradients) -> float:
    """One pass over the training graphs; returns the mean loss per global batch."""
    batches.sampler.set_epoch(epoch)
    model.train()
    total, steps = torch.zeros((), dtype=torch.float64, device=device), 0
    for batch in batches:
        batch = batch.to(device)
        optimizer.zero_grad(set_to_none=True)
        summed, count = loss_sum(predict(model, batch, dataset.level), batch.y, dataset.task)
        count = torch.tensor(float(count), device=device)
        if world > 1:
            dist.all_reduce(count)
        loss = summed / count
        loss.backward()
        reduce_gradients(model)
        optimizer.step()
        total += loss.detach().double()
        steps += 1
    if world > 1:
        dist.all_reduce(total)
    return float(total) / max(steps, 1)


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
