"""The workload the backward-mode experiments measure: one forward + backward solve of eq. (4) on a generated graph.

A contextual-SBM graph (:func:`graphcon_ode.datasets.synthetic.contextual_sbm`) with its features as X⁰ and Y⁰ = 0, a
GraphCON-GCN field with weights shared over time, N steps of ``imex`` with step Δt on [0, NΔt], and the loss
mean(X(T)²). The gradient is taken for X⁰, Y⁰ and every weight and bias, each reported as its own tensor.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import Tensor

from experiments.harness import add_common_arguments
from experiments.memory import PeakMemory
from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.datasets.synthetic import contextual_sbm
from graphcon_ode.field import BoundGraphCONField


@dataclass(frozen=True)
class Workload:
    """One solve: graph size, field, depth. ``weight_norm`` rescales W to that spectral norm (None: as drawn)."""

    nodes: int
    channels: int
    alpha: float
    gamma: float
    step_size: float
    steps: int
    degree: float = 10.0
    weight_norm: float | None = None
    bias_std: float = 0.0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Instance:
    """A built workload: the bound field and the initial state, in one dtype and device."""

    field: GraphCONField
    bound: BoundGraphCONField
    x0: Tensor
    y0: Tensor

    def tensor_names(self) -> list[str]:
        return ["x0", "y0"] + [name.split(".")[-1] for name, _ in self.field.named_parameters()]


def build(workload: Workload, dtype: torch.dtype = torch.float32, device: str = "cpu") -> Instance:
    """The graph, field and initial state of ``workload``; the same weights for every dtype (drawn in float64)."""
    data = contextual_sbm(num_nodes=workload.nodes, average_degree=workload.degree,
                          num_features=workload.channels, seed=workload.seed)
    torch.manual_seed(workload.seed)
    field = GraphCONField(GCN(workload.channels), alpha=workload.alpha, gamma=workload.gamma).double()
    if workload.weight_norm is not None:
        with torch.no_grad():
            for layer in field.coupling.layers:
                weight = layer.lin.weight
                weight.mul_(workload.weight_norm / torch.linalg.matrix_norm(weight, ord=2))
            for layer in field.coupling.layers:
                layer.bias.normal_(0.0, workload.bias_std)
    field = field.to(device=device, dtype=dtype)
    x0 = (data.x / data.x.std()).to(device=device, dtype=dtype)
    return Instance(field, field.bind(data.edge_index.to(device)), x0, torch.zeros_like(x0))


def forward_backward(workload: Workload, instance: Instance, mode: str,
                     options: dict[str, Any] | None = None) -> tuple[list[Tensor], dict[str, Any], float]:
    """Gradients of mean(X(T)²) for every tensor (``Instance.tensor_names`` order), the solve's stats and seconds."""
    x0 = instance.x0.clone().requires_grad_(True)
    y0 = instance.y0.clone().requires_grad_(True)
    instance.field.zero_grad(set_to_none=True)
    t = torch.tensor([0.0, workload.steps * workload.step_size], dtype=x0.dtype, device=x0.device)
    start = time.perf_counter()
    (xs, _), stats = odeint(instance.bound, (x0, y0), t, method="imex", backward=mode,
                            options={"step_size": workload.step_size, **(options or {})}, return_stats=True)
    xs[-1].pow(2).mean().backward()
    if x0.is_cuda:
        torch.cuda.synchronize(x0.device)
    seconds = time.perf_counter() - start
    grads = [x0.grad, y0.grad] + [p.grad for p in instance.field.parameters()]
    return [torch.zeros_like(p) if g is None else g.detach() for g, p in
            zip(grads, [x0, y0, *instance.field.parameters()])], stats.as_dict(), seconds


def relative_errors(grads: list[Tensor], reference: list[Tensor]) -> list[float]:
    """‖g − g_ref‖ / ‖g_ref‖ per tensor, in float64 (nan where the gradient is not finite)."""
    errors = []
    for g, r in zip(grads, reference):
        r = r.double().cpu()
        diff = (g.double().cpu() - r).norm()
        errors.append(float(diff / r.norm()) if torch.isfinite(diff) else float("nan"))
    return errors


STAT_KEYS = ("nfe_forward", "nfe_backward", "anchor_every", "anchors", "recomputed_blocks",
             "max_reconstruction_error", "checkpoint_every", "buffer_mib")


def measure(workload: Workload, mode: str, reference: list[Tensor] | None = None, dtype: torch.dtype = torch.float32,
            device: str = "auto") -> dict[str, Any]:
    """One forward + backward in ``mode`` with its peak memory and time; run it in a fresh process
    (:func:`experiments.memory.run_isolated`). With ``reference`` gradients, also the per-tensor relative errors.

    A two-step solve in the same mode runs first, so that one-off costs (graph normalisation, lazy kernels) are
    neither timed nor counted in the peak.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    instance = build(workload, dtype, device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forward_backward(replace(workload, steps=2), instance, mode)
        with PeakMemory(torch.device(device)) as peak:
            grads, stats, seconds = forward_backward(workload, instance, mode)
    row: dict[str, Any] = {"mode": mode, **workload.as_dict(), "device": device, "peak_mib": peak.mib,
                           "cpu_peak_mib": peak.cpu_mib, "cuda_peak_mib": peak.cuda_mib, "seconds": seconds,
                           **{key: stats.get(key) for key in STAT_KEYS},
                           "warning": str(caught[-1].message) if caught else None}
    if reference is not None:
        errors = relative_errors(grads, reference)
        names = instance.tensor_names()
        row.update({f"error_{name}": e for name, e in zip(names, errors)})
        counted = [e for e, r in zip(errors, reference) if representable(r, dtype)]
        row["grad_rel_error"] = float("nan") if any(math.isnan(e) for e in counted) else max(counted, default=None)
        row["not_representable"] = [n for n, r in zip(names, reference) if not representable(r, dtype)] or None
    return row


def representable(reference: Tensor, dtype: torch.dtype) -> bool:
    """Whether ``dtype`` can carry the reference gradient to full relative precision: its largest entry is at
    least the smallest normal number divided by the unit round-off (1e-31 in float32). A damped solve shrinks
    the gradient for X⁰ like |1 − αΔt|^N, below that at depth, and a relative error means nothing there."""
    info = torch.finfo(dtype)
    return float(reference.abs().max()) >= info.tiny / info.eps


def add_depth_arguments(parser: argparse.ArgumentParser, default_out: str, steps: list[int], quick_steps: list[int],
                        modes: list[str]) -> None:
    """The options of a sweep of backward modes over depth: the common ones, ``--steps``, ``--modes`` and
    ``--threads`` (each measurement runs in its own process)."""
    add_common_arguments(parser, default_out)
    parser.add_argument("--steps", type=int, nargs="+", help=f"depths N (default {steps}; --quick {quick_steps})")
    parser.add_argument("--modes", nargs="+", choices=modes, default=modes, help="backward modes to measure")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per measurement")
