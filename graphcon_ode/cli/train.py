"""``graphcon-ode train``: train a node- or graph-level model on any dataset of the library, in one process or many.

    graphcon-ode train --dataset cora --model graphcon-gcn --layers 8 --epochs 100 --out runs/cora
    graphcon-ode train --dataset sbm --nodes 1000000 --batch-size 4096 --fanout 10 5 --out runs/sbm
    graphcon-ode train --dataset zinc-moses --model graphcon-gcn --batch-size 128 --out runs/zinc-moses
    torchrun --nproc_per_node=2 -m graphcon_ode.cli train --dataset cora --distributed --out runs/cora2

Full-batch (default) or mini-batch (``--batch-size B --fanout k1 k2 ...``: each step takes B training nodes as
seeds, samples their neighbourhood with :func:`graphcon_ode.sampling.neighbor_loader` and runs the model on that
subgraph; the loss is read at the seeds). Datasets of many graphs (ZINC, PPI, MNIST superpixels and their
stand-ins) train on mini-batches of whole graphs (:mod:`graphcon_ode.cli.train_graphs`, one share of every global
batch per rank).

Data parallel (``--distributed`` under ``torchrun``): ``torch.distributed`` with gloo on the CPU, nccl on CUDA. Every
global batch B (all training nodes full-batch; B seeds mini-batch; B graphs) is split into one contiguous share S_r
per rank; rank r takes the loss L_r = Σ_{i ∈ S_r} ℓ_i / |B|, and the gradients are summed over the ranks by one
``all_reduce`` of a flat buffer after the backward pass (:mod:`graphcon_ode.training.distributed`), so that
Σ_r ∇L_r is the gradient of the global batch's mean loss: the step of a single process on the same global batch.
That holds only where ℓ_i is the single process's, and a node's output depends on the whole graph it is computed
on (through the GCN degree normalisation, on which nodes are inner, with all their edges, and which at the last
hop): so on one graph every rank runs the model on the graph of the whole global batch (full-batch: the graph;
mini-batch: the subgraph sampled around all B seeds) and reads the loss at its share of the seeds only. The
sampling, the seed order and the dropout masks of an epoch come from one stream seeded by (seed, epoch) that is the
same on every rank and the same as a single process's, so the K ranks draw what the single process draws and the K
steps are its steps, dropout included (:func:`train_epoch`). On one graph the forward and backward pass are thus
repeated on every rank rather than divided; what is divided is the batches of whole graphs
(:mod:`graphcon_ode.cli.train_graphs`), whose losses do not depend on one another.
The all-reduce is explicit rather than through
``DistributedDataParallel`` because the low-memory backward modes (reversible, exact reversal, adjoint) produce the
parameter gradients inside one autograd Function at the end of the backward pass, so DDP's overlap of communication
with the backward pass has nothing to overlap, while the explicit sum is the same for every backward mode and easy to
check against a single process (torchdiffeq's issue #119: adjoint gradients lost under ``DataParallel``).

Checkpoints: after every epoch rank 0 writes ``--out DIR/checkpoint.pt`` atomically (temporary file + rename): a
dict with "model" (the state_dict), "optimizer", "epoch" (epochs done), "rng" (torch's CPU generator state),
"history" and "config". ``--resume`` continues from it; every random draw of an epoch (seed order, sampling,
dropout) comes from a generator seeded by (seed, epoch) (and the rank, for the dropout of graph batches), so a run
killed at any point, one rank or all, and resumed ends with the weights of an uninterrupted run. A run never
replaces another: an ``--out`` that holds a checkpoint is refused unless ``--resume`` (the saved settings must be
the given ones) or ``--overwrite``; Ctrl-C names the command that resumes. Every file the verb writes
(checkpoint.pt, metrics.json) is written atomically.

Scores: accuracy, or, on a dataset of two classes (minesweeper, tolokers, questions), one logit trained with BCE
and scored by ROC AUC, as :mod:`graphcon_ode.training.tasks` defines them for the whole library.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch_geometric.data import Data

from graphcon_ode.cli import close_progress_bars, train_graphs
from graphcon_ode.cli.arguments import UsageError, add_coefficient_arguments
from graphcon_ode.datasets import DATASETS, degree_corrected_sbm, load_dataset
from graphcon_ode.models import names
from graphcon_ode.odeint import known_methods
from graphcon_ode.results import write_atomic
from graphcon_ode.sampling import neighbor_loader
from graphcon_ode.training.checkpoint import load_checkpoint, save_checkpoint
from graphcon_ode.training.distributed import Context, reduce_gradients, shares, start, sum_over_ranks
from graphcon_ode.training.tasks import TASKS, Task
from solvers import BACKWARD_MODES

MODELS = ("graphcon-gcn", "graphcon-gat", "graphcon-tran", "gcn", "gat")
GENERATED = "sbm"
DTYPES = {"float32": torch.float32, "float64": torch.float64}
CONFIG_KEYS = ("dataset", "split", "model", "hidden", "layers", "step_size", "alpha", "gamma", "heads", "dropout",
               "input_dropout", "step_dropout", "backward", "method", "lr", "weight_decay", "batch_size", "fanout",
               "seed", "dtype", "nodes", "degree", "homophily", "classes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="cora", help=f"a node-level dataset ({', '.join(DATASETS)}), "
                        f"'{GENERATED}' for a generated degree-corrected SBM (--nodes, --degree, --homophily, "
                        f"--classes), or a dataset of many graphs ({', '.join(train_graphs.GRAPH_DATASETS)})")
    parser.add_argument("--data-root", default=None, help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--split", type=int, default=0, help="split index of datasets with several splits")
    parser.add_argument("--model", default="graphcon-gcn", choices=MODELS,
                        help="the model, by its name in graphcon_ode.models.names")
    parser.add_argument("--hidden", type=int, default=64, help="hidden channels m")
    parser.add_argument("--layers", type=int, default=8, help="GraphCON steps N (or the baseline's layers)")
    add_coefficient_arguments(parser, alpha=1.0, gamma=1.0, step_size=1.0)
    parser.add_argument("--heads", type=int, default=1, help="attention heads (GAT and transformer couplings)")
    parser.add_argument("--dropout", type=float, default=0.0, help="dropout on the encoded features")
    parser.add_argument("--input-dropout", type=float, default=0.0, help="dropout on the raw features")
    parser.add_argument("--step-dropout", type=float, default=0.0,
                        help="GraphCON: dropout on X and Y after every step (backprop or checkpoint)")
    parser.add_argument("--backward", default="backprop", choices=sorted(BACKWARD_MODES),
                        help="how gradients are computed (docs/reference/backward_modes.md)")
    parser.add_argument("--method", default="imex", choices=known_methods(), help="the ODE method; imex is eq. (4)")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="Adam weight decay")
    parser.add_argument("--epochs", type=int, default=100, help="epochs to train")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (weights, sampling, dropout)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="seed nodes (graphs) per global mini-batch (default: full-batch; 128 graphs)")
    parser.add_argument("--fanout", type=int, nargs="+", default=None,
                        help="neighbours sampled per node and hop, -1 for all (default: -1 for every layer)")
    parser.add_argument("--distributed", action="store_true", help="data parallel under torchrun")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="auto: CUDA when torch has it, else the CPU")
    parser.add_argument("--dtype", default="float32", choices=sorted(DTYPES), help="working precision of the model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--eval-every", type=int, default=1, help="evaluate every this many epochs (0: never)")
    parser.add_argument("--out", default="runs/train", help="folder for checkpoint.pt and metrics.json")
    parser.add_argument("--resume", action="store_true", help="continue from --out DIR/checkpoint.pt")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh over the run in --out DIR (its checkpoint.pt is replaced)")
    parser.add_argument("--nodes", type=int, default=100_000, help=f"--dataset {GENERATED}: number of nodes")
    parser.add_argument("--degree", type=float, default=10.0, help=f"--dataset {GENERATED}: average degree")
    parser.add_argument("--homophily", type=float, default=0.7, help=f"--dataset {GENERATED}: edge homophily")
    parser.add_argument("--classes", type=int, default=10, help=f"--dataset {GENERATED}: number of classes")


def load_graph(args: argparse.Namespace) -> Data:
    """The dataset's graph with 1-D train/val/test masks (split ``--split`` of datasets with several)."""
    if args.dataset == GENERATED:
        return degree_corrected_sbm(args.nodes, num_classes=args.classes, average_degree=args.degree,
                                    homophily=args.homophily, seed=args.seed)
    if args.dataset not in DATASETS:
        raise ValueError(f"dataset: unknown dataset {args.dataset!r}; known: {', '.join(DATASETS)}, {GENERATED}")
    data = load_dataset(args.dataset, args.data_root)
    for name in ("train_mask", "val_mask", "test_mask"):
        mask = data[name]
        if mask.dim() == 2:
            if not 0 <= args.split < mask.shape[1]:
                raise ValueError(f"split: must lie in [0, {mask.shape[1] - 1}], got {args.split}")
            data[name] = mask[:, args.split]
    if data.x.is_sparse:
        data.x = data.x.to_dense()
    return data


def build_model(args: argparse.Namespace, in_channels: int, classes: int) -> nn.Module:
    """The node-level model ``--model`` (:mod:`graphcon_ode.models.names`) with the command line's settings."""
    return names.build_model(
        args.model, in_channels, args.hidden, classes, num_layers=args.layers, step_size=args.step_size,
        alpha=args.alpha, gamma=args.gamma, heads=args.heads, dropout=args.dropout, input_dropout=args.input_dropout,
        step_dropout=args.step_dropout, method=args.method, backward=args.backward)


def epoch_generator(seed: int, epoch: int, rank: int) -> torch.Generator:
    """The generator of one epoch's draws on one rank, so that an epoch replays exactly after a restart."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 1009 + rank)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, data: Data, train_nodes: Tensor,
                args: argparse.Namespace, epoch: int, context: Context, loader: Any, task: Task) -> float:
    """One epoch; returns the mean training loss over the global batches (this rank's part summed over ranks).

    Every rank draws from the same stream (the single process's, seeded by (seed, epoch)) and makes the same
    draws in the same order: the seed order, then per global batch the subgraph sampled around all its seeds and
    the model's dropout on it. Rank r then reads the loss at its share of the batch's seeds (module docstring)."""
    minibatch = args.batch_size is not None
    # Mini-batches are positions into the loader's seed nodes (the training nodes), in an order drawn per epoch.
    order = torch.randperm(train_nodes.numel(), generator=epoch_generator(args.seed, epoch, 0)) if minibatch \
        else train_nodes
    torch.manual_seed(int(torch.randint(2**62, (), generator=epoch_generator(args.seed, epoch, 0))))
    if loader is not None and hasattr(loader.node_sampler, "generator"):
        loader.node_sampler.generator.manual_seed(int(torch.randint(2**62, ())))
    model.train()
    total = torch.zeros((), dtype=torch.float64, device=context.device)
    batches = shares(order, args.batch_size, context)
    for batch, share in batches:
        optimizer.zero_grad(set_to_none=True)
        if minibatch:
            sample = loader(batch).to(context.device)  # the batch's seeds first, in the batch's order
            logits = model(sample.x, sample.edge_index)[share]
            labels = sample.y[share]
        else:
            logits = model(data.x, data.edge_index)[batch[share]]
            labels = data.y[batch[share]]
        loss = task.loss(*task.outputs(logits, labels), reduction="sum") / batch.numel()
        loss.backward()
        reduce_gradients(model, context)
        optimizer.step()
        total += loss.detach().double()
    return float(sum_over_ranks(total, context)) / len(batches)


@torch.no_grad()
def evaluate(model: nn.Module, data: Data, task: Task) -> dict[str, float]:
    """The task's metric (accuracy; ROC AUC of a binary set) on the full graph's train, validation and test masks."""
    model.eval()
    prediction, target = task.outputs(model(data.x, data.edge_index), data.y)
    return {name: task.score(prediction[data[f"{name}_mask"]], target[data[f"{name}_mask"]])
            for name in ("train", "val", "test")}


def node_task(args: argparse.Namespace, classes: int) -> Task:
    """Binary (one logit, BCE, ROC AUC) for a loaded dataset of two classes, as the library scores minesweeper,
    tolokers and questions; else classification (cross-entropy, accuracy)."""
    return TASKS["binary" if classes == 2 and args.dataset != GENERATED else "classification"]


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in CONFIG_KEYS}


def setup(args: argparse.Namespace) -> tuple[Context, bool]:
    """The process's rank, world size and device; starts the process group under ``--distributed`` (returns
    whether it did, so that the caller ends it)."""
    cuda = args.device == "cuda" or args.device == "auto" and torch.cuda.is_available()
    if args.distributed and "RANK" not in os.environ and not dist.is_initialized():
        raise ValueError("distributed: --distributed needs the environment of torchrun "
                         "(torchrun --nproc_per_node=K -m graphcon_ode.cli train ... --distributed)")
    return start(cuda, args.distributed)


def check_arguments(args: argparse.Namespace) -> None:
    for name in ("epochs", "layers", "hidden", "threads"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name}: must be >= 1, got {getattr(args, name)}")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {args.batch_size}")
    if args.fanout is not None and args.batch_size is None:
        raise ValueError("fanout: sampling neighbourhoods needs mini-batches (--batch-size)")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device: cuda was asked for, but this torch has no CUDA device (torch "
                         f"{torch.__version__}); pass --device cpu")
    checkpoint = Path(args.out) / "checkpoint.pt"
    if args.resume and args.overwrite:
        raise UsageError("--resume, --overwrite: pass one of them (continue the run in --out, or start it afresh)")
    if args.resume and not checkpoint.exists():
        raise UsageError(f"--resume: there is no checkpoint to continue from ({checkpoint} does not exist)")
    if checkpoint.exists() and not (args.resume or args.overwrite):
        raise UsageError(f"--out: {args.out} holds the checkpoint of an earlier run ({checkpoint}); pass --resume to "
                         f"continue it or --overwrite to start afresh")


def check(args: argparse.Namespace) -> None:
    """The verb's own checks, before any data is read (:func:`check_arguments`)."""
    check_arguments(args)


ADJOINT_NOTE = (
    "graphcon-ode train: --backward adjoint is torchdiffeq's continuous adjoint: the gradient of the ODE, not of the "
    "N steps trained, at about 11x backprop's time (5e4 nodes, N = 32: docs/results/performance.md, 'Backward "
    "modes'); for low memory with the exact gradient of eq. (4) use --backward reversible or checkpoint"
)
"""What ``train`` prints (standard error) when asked for the continuous adjoint."""


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train as the arguments say; returns the final metrics (on rank 0; other ranks get the same dict)."""
    check_arguments(args)
    if args.backward == "adjoint" and os.environ.get("RANK", "0") == "0":
        print(ADJOINT_NOTE, file=sys.stderr)
    torch.set_num_threads(args.threads)
    context, started = setup(args)
    try:
        return _train(args, context)
    finally:
        if started:
            dist.destroy_process_group()


def _prepare_nodes(args: argparse.Namespace, context: Context, dtype: torch.dtype):
    """Model, one-epoch and evaluation functions, and a description, for a single-graph node-level dataset."""
    data = load_graph(args)
    data.x = data.x.to(dtype)
    classes = int(data.y.max()) + 1
    task = node_task(args, classes)
    loader = None
    if args.batch_size is not None:
        fanout = args.fanout or [-1] * args.layers
        loader = neighbor_loader(data, fanout, input_nodes=data.train_mask.nonzero().flatten(),
                                 batch_size=args.batch_size, seed=args.seed)
    data = data.to(context.device)
    train_nodes = data.train_mask.nonzero().flatten()
    torch.manual_seed(args.seed)
    outputs = 1 if task.name == "binary" else classes
    model = build_model(args, data.num_features, outputs).to(device=context.device, dtype=dtype)

    def one_epoch(optimizer: torch.optim.Optimizer, epoch: int) -> float:
        return train_epoch(model, optimizer, data, train_nodes, args, epoch, context, loader, task)

    described = {"train_nodes": int(train_nodes.numel()), "num_nodes": int(data.num_nodes),
                 "num_edges": int(data.num_edges), "task": task.name, "metric": task.metric}
    return model, one_epoch, lambda: evaluate(model, data, task), described


def _prepare_graphs(args: argparse.Namespace, context: Context, dtype: torch.dtype):
    """The same for a dataset of many graphs (:mod:`graphcon_ode.cli.train_graphs`)."""
    if args.fanout is not None:
        raise ValueError("fanout: datasets of many graphs train on whole graphs; drop --fanout")
    dataset = train_graphs.load(args)
    torch.manual_seed(args.seed)
    model = train_graphs.build_model(args, dataset).to(device=context.device)
    if dataset.atom_vocabulary is None:
        model = model.to(dtype)

    def one_epoch(optimizer: torch.optim.Optimizer, epoch: int) -> float:
        torch.manual_seed(int(torch.randint(2**62, (), generator=epoch_generator(args.seed, epoch, context.rank))))
        return train_graphs.train_epoch(model, optimizer, dataset, args, epoch, context)

    described = {"train_graphs": len(dataset.train), "task": dataset.task, "metric": dataset.metric}
    return model, one_epoch, lambda: train_graphs.evaluate(model, dataset, context.device), described


def _train(args: argparse.Namespace, context: Context) -> dict[str, Any]:
    dtype = DTYPES[args.dtype]
    prepare = _prepare_graphs if train_graphs.is_graph_dataset(args.dataset) else _prepare_nodes
    model, one_epoch, score, described = prepare(args, context, dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    out = Path(args.out)
    checkpoint = out / "checkpoint.pt"
    start_epoch, history = 0, []
    if args.resume:
        state = load_checkpoint(checkpoint, map_location=context.device)
        if state.get("config") != config_of(args):
            saved = state.get("config") or {}
            changed = [f"--{k.replace('_', '-')} {saved.get(k)!r} saved, {getattr(args, k)!r} given"
                       for k in CONFIG_KEYS if saved.get(k) != getattr(args, k)]
            raise UsageError(f"--resume: {checkpoint} was written with other settings ({'; '.join(changed)})")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        start_epoch, history = state["epoch"], state["history"]
    elif context.world > 1:
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, 0)
    for epoch in range(start_epoch, args.epochs):
        start = time.perf_counter()
        loss = one_epoch(optimizer, epoch)
        record: dict[str, Any] = {"epoch": epoch + 1, "loss": loss, "seconds": time.perf_counter() - start}
        if context.is_main and args.eval_every and (epoch + 1) % args.eval_every == 0:
            record.update(score())
        history.append(record)
        if context.is_main:
            save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                             "rng": torch.get_rng_state(), "history": history, "config": config_of(args)},
                            checkpoint)
            print(json.dumps(record), flush=True)
    metrics = {"epochs": len(history), "world_size": context.world, "last": history[-1] if history else None,
               **described}
    if context.is_main:
        write_atomic(out / "metrics.json", json.dumps(metrics, indent=1))
    return metrics


def resume_command(args: argparse.Namespace) -> str:
    """The command that continues this run: its options as given, plus ``--resume`` (under ``torchrun`` where
    the run is distributed)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    words = []
    for action in parser._actions:
        if action.dest not in getattr(args, "given_options", ()) or action.dest in ("resume", "overwrite"):
            continue
        value = getattr(args, action.dest)
        if isinstance(value, bool):
            words += [action.option_strings[-1]] if value else []
        else:
            words += [action.option_strings[-1], *(str(v) for v in (value if isinstance(value, list) else [value]))]
    if getattr(args, "debug", False):
        words.append("--debug")
    prefix = ["graphcon-ode", "train"]
    if args.distributed:
        prefix = ["torchrun", f"--nproc_per_node={os.environ.get('WORLD_SIZE', 'K')}", "-m", "graphcon_ode.cli",
                  "train"]
    return shlex.join(prefix + words + ["--resume"])


def run(args: argparse.Namespace) -> int:
    """Train; on Ctrl-C, after the last checkpoint is whole, name the command that continues the run (exit 130)."""
    try:
        train(args)
    except KeyboardInterrupt:
        close_progress_bars()
        if os.environ.get("RANK", "0") == "0":
            print(f"graphcon-ode train: interrupted; the run in {args.out} continues with: {resume_command(args)}",
                  file=sys.stderr)
        return 130
    return 0
