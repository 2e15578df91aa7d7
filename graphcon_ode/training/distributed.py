"""Data-parallel training across processes: where a process stands, and the gradient sum over the processes.

Every global batch B is split into one contiguous share S_r per rank (:func:`shares`); rank r takes the loss
L_r = Σ_{i ∈ S_r} ℓ_i / |B| and the parameter gradients are summed over the ranks by one ``all_reduce`` of a flat
buffer after the backward pass (:func:`reduce_gradients`), so that Σ_r ∇L_r = ∇((1/|B|) Σ_{i ∈ B} ℓ_i): the step
is the gradient of the global batch's mean loss, the step a single process takes on the same batch, provided each
ℓ_i is the one the single process computes (the callers' part: same subgraph, same random draws).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass
class Context:
    """Where this process stands: its rank among ``world`` processes and its device."""

    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def start(cuda: bool, distributed: bool) -> tuple[Context, bool]:
    """This process's :class:`Context`: rank 0 of 1 in one process; else the rank and world size of the process
    group (started here from torchrun's environment, nccl on CUDA and gloo on the CPU, unless it runs already),
    with the device ``LOCAL_RANK`` on CUDA. Returns whether it started the group, so that the caller ends it."""
    if not distributed:
        return Context(0, 1, torch.device("cuda" if cuda else "cpu")), False
    started = not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    return Context(dist.get_rank(), dist.get_world_size(), device), started


def reduce_gradients(model: nn.Module, context: Context) -> None:
    """Sum every parameter's gradient over the ranks (one all-reduce of a flat buffer; absent gradients as zero
    where another rank has one, and left absent where no rank has one, as in a single process)."""
    if context.world == 1:
        return
    parameters = list(model.parameters())
    present = torch.tensor([p.grad is not None for p in parameters], dtype=torch.float32, device=context.device)
    dist.all_reduce(present)
    chosen = [p for p, seen in zip(parameters, present.tolist()) if seen]
    for p in chosen:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in chosen])
    dist.all_reduce(flat)
    for p, part in zip(chosen, flat.split([p.numel() for p in chosen])):
        p.grad.copy_(part.view_as(p))


def share_of(size: int, context: Context) -> slice:
    """The positions of this rank's contiguous share of a global batch of ``size`` items: the part
    ``torch.tensor_split`` gives it (the first ``size mod world`` ranks one more; empty where ``size < world``)."""
    base, extra = divmod(size, context.world)
    start = context.rank * base + min(context.rank, extra)
    return slice(start, start + base + (context.rank < extra))


def shares(items: Tensor, batch_size: int | None, context: Context) -> list[tuple[Tensor, slice]]:
    """Every global batch of ``items`` (all of them at once where ``batch_size`` is None), each with the positions
    of this rank's share in it (:func:`share_of`). Every rank gets the same batches, so that all take the same
    number of steps, an empty share included."""
    batches = [items] if batch_size is None else list(items.split(batch_size))
    return [(batch, share_of(batch.numel(), context)) for batch in batches]


def sum_over_ranks(value: Tensor, context: Context) -> Tensor:
    """``value`` summed over the ranks, in place (unchanged in one process)."""
    if context.world > 1:
        dist.all_reduce(value)
    return value
