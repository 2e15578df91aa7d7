"""``graphcon-ode backward-accuracy``: how exact is every backward mode at depth?

For N ∈ {10, 100, 1000, 5000} steps of eq. (4) at four settings (α, γ, Δt) — undamped (0, 1, 0.05), damped
(0.5, 1, 0.05) and the authors' published ZINC (0.215, 1.115, 1) and MNIST (1.396, 0.841, 1) GCN settings — the
gradient of mean(X(T)²) for X⁰, Y⁰, W and b is computed in float32 by every backward mode and compared, tensor
by tensor, with float64 gradients of the same weights. The float64 reference is taken with the "checkpoint"
mode, which replays plain backprop's operations and gives its gradients (tests check they agree). The row's
``grad_rel_error`` is the worst tensor's ‖g − g_ref‖/‖g_ref‖ among the tensors float32 can carry (a damped solve
shrinks the gradient for X⁰ like |1 − αΔt|^N, to 1e-120 at the MNIST setting and N = 5000; such tensors are
listed in ``not_representable`` and their errors kept in the ``error_*`` keys); peak memory and time come from
a fresh process per point (:mod:`experiments.memory`).

The graph is a contextual SBM (300 nodes, average degree 10, 16 channels; ``--quick``: 100 nodes, 8 channels,
N ≤ 100). The GCN weight is rescaled to spectral norm 0.5 and the bias drawn from N(0, 1), so that the damped
oscillators settle on a driven state of order 1 instead of decaying to 0 or, at Δt = 1, blowing up.
"""

from __future__ import annotations

import argparse
import math
from functools import partial
from pathlib import Path

import torch
from matplotlib.figure import Figure

from experiments.gradient_workload import Workload, add_depth_arguments, build, forward_backward, measure
from experiments.harness import RunStore, progress
from experiments.memory import run_isolated
from graphcon_ode.results import markdown_table, write_png, write_results

SETTINGS: dict[str, tuple[float, float, float]] = {
    "undamped": (0.0, 1.0, 0.05),
    "damped": (0.5, 1.0, 0.05),
    "zinc": (0.215, 1.115, 1.0),
    "mnist": (1.396, 0.841, 1.0),
}
MODES = ["backprop", "checkpoint", "adjoint", "reversible", "exact_reversal"]
STEPS = [10, 100, 1000, 5000]
QUICK_STEPS = [10, 100]
COLUMNS = ["setting", "mode", "alpha", "gamma", "step_size", "steps", "grad_rel_error", "peak_mib", "seconds",
           "anchor_every", "recomputed_blocks", "note"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_depth_arguments(parser, "results/backward-accuracy", STEPS, QUICK_STEPS, MODES)
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS),
                        help="the workloads (graph size, α, Δt) whose gradients are compared")


def workload_for(setting: str, steps: int, quick: bool, seed: int) -> Workload:
    alpha, gamma, step_size = SETTINGS[setting]
    nodes, channels = (100, 8) if quick else (300, 16)
    return Workload(nodes=nodes, channels=channels, alpha=alpha, gamma=gamma, step_size=step_size, steps=steps,
                    weight_norm=0.5, bias_std=1.0, seed=seed)


def reference_gradients(workload: Workload) -> dict[str, list[torch.Tensor]]:
    """float64 gradients of the same weights (checkpoint mode: backprop's operations, O(√N) memory)."""
    grads, _, _ = forward_backward(workload, build(workload, torch.float64, "cpu"), "checkpoint")
    return {"grads": grads}


def error_table(rows: list[dict], steps: list[int]) -> str:
    """grad_rel_error by setting and mode (rows) and depth N (columns)."""
    table = []
    for setting in SETTINGS:
        for mode in MODES:
            cells = {r["steps"]: r.get("grad_rel_error") for r in rows if r["setting"] == setting and r["mode"] == mode}
            if cells:
                table.append({"setting": setting, "mode": mode, **{f"N={n}": cells.get(n) for n in steps}})
    return markdown_table(table, ["setting", "mode", *(f"N={n}" for n in steps)])


def plot(rows: list[dict], path: Path) -> None:
    fig = Figure(figsize=(4 * len(SETTINGS), 3.4), dpi=110)
    axes = fig.subplots(1, len(SETTINGS), sharey=True)
    for ax, (setting, (alpha, gamma, dt)) in zip(axes, SETTINGS.items()):
        for mode in MODES:
            points = sorted((r["steps"], r["grad_rel_error"]) for r in rows if r["setting"] == setting
                            and r["mode"] == mode and r.get("grad_rel_error") is not None
                            and math.isfinite(r["grad_rel_error"]))
            if points:
                ax.plot(*zip(*points), marker="o", label=mode)
        ax.set(xscale="log", yscale="log", xlabel="steps N", title=f"{setting}: α={alpha}, γ={gamma}, Δt={dt}")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("relative gradient error (worst tensor)")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    write_png(path, fig)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    store = RunStore(out)
    steps = args.steps or (QUICK_STEPS if args.quick else STEPS)
    points = [(setting, n) for setting in args.settings for n in steps]
    for setting, n in progress(points, "backward-accuracy"):
        keys = {mode: f"{setting}/N={n}/{mode}" + ("/quick" if args.quick else "") for mode in args.modes}
        if not store.pending(keys.values()):
            continue
        workload = workload_for(setting, n, args.quick, args.seed)
        reference = run_isolated(partial(reference_gradients, workload), args.threads)["grads"]
        for mode, key in keys.items():
            if store.done(key):
                continue
            row = run_isolated(partial(measure, workload, mode, reference, device="cpu"), args.threads)
            if "error" in row:
                row = {"mode": mode, **workload.as_dict(), "grad_rel_error": math.nan,
                       "note": row["error"].strip().splitlines()[-1]}
            store.record(key, {"setting": setting, **row})
    rows = [store.records[f"{s}/N={n}/{m}" + ("/quick" if args.quick else "")] for s, n in points for m in args.modes]
    notes = ("Gradient of mean(X(T)²) in float32 against float64 (same weights), worst tensor among X⁰, Y⁰, W, b "
             "that float32 can carry (see not_representable in results.json).\n\n"
             + error_table(rows, steps))
    write_results(out, rows, COLUMNS, "Backward modes: gradient accuracy at depth", notes)
    plot(rows, out / "backward_accuracy.png")
    print((out / "results.md").read_text())
    return 0
