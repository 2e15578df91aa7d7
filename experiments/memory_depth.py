"""``graphcon-ode memory-depth``: peak memory and time of one forward + backward against the depth N.

Every backward mode of the library (:data:`solvers.BACKWARD_MODES`) solves eq. (4) for N ∈ {8, 32, 128, 512,
2048} steps on a generated graph: a contextual SBM with 20 000 nodes and average degree 10, 32 channels, a
GraphCON-GCN field (weights shared over time) at α = 0.5, γ = 1, Δt = 0.05, loss mean(X(T)²). Each point runs
in a fresh process (:mod:`experiments.memory`): CPU peak = growth of the resident set with the mmap threshold
fixed at 16 KiB; on a GPU, ``max_memory_allocated``. ``--quick``: 2 000 nodes and N ≤ 64.

A mode whose peak or time, extrapolated linearly from its last two depths, would pass ``--max-mib`` or
``--max-seconds`` is skipped at the larger depths (plain backprop grows by one step's activations per step; the
continuous adjoint costs four evaluations and vector-Jacobian products per step). ``--steps``, ``--modes`` and
``--nodes`` reproduce other tables, e.g. N = 10, 100, 1000, 5000 for backprop, reversible and the continuous
adjoint, or the anchor budget at 5 000 nodes (N = 20 against N = 1000).
"""

from __future__ import annotations

import argparse
import math
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from experiments.gradient_workload import Workload, add_depth_arguments, measure
from experiments.harness import RunStore, progress
from experiments.memory import run_isolated
from graphcon_ode.cli.arguments import add_coefficient_arguments
from graphcon_ode.results import markdown_table, write_png, write_results
from solvers import BACKWARD_MODES

MODES = list(BACKWARD_MODES)
STEPS = [8, 32, 128, 512, 2048]
QUICK_STEPS = [8, 24, 64]
COLUMNS = ["mode", "steps", "nodes", "channels", "peak_mib", "seconds", "anchor_every", "anchors", "nfe_forward",
           "nfe_backward", "device", "note"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_depth_arguments(parser, "results/memory-depth", STEPS, QUICK_STEPS, MODES)
    parser.add_argument("--nodes", type=int, help="graph size (default 20000; --quick 2000)")
    parser.add_argument("--channels", type=int, default=32, help="feature channels m of the state")
    parser.add_argument("--degree", type=float, default=10.0, help="average node degree of the generated graph")
    add_coefficient_arguments(parser, alpha=0.5, gamma=1.0, step_size=0.05)
    parser.add_argument("--max-mib", type=float, default=4096.0,
                        help="skip depths whose extrapolated peak exceeds this (MiB)")
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="skip depths whose extrapolated forward+backward time exceeds this")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where to solve (auto: CUDA when the measuring process sees one)")


def extrapolated(rows: list[dict], key: str, steps: int) -> float:
    """``key`` at ``steps`` extrapolated linearly from the two deepest measured rows (0 with fewer)."""
    measured = sorted((r["steps"], r[key]) for r in rows if r.get(key) is not None)
    if len(measured) < 2:
        return 0.0
    (n1, v1), (n2, v2) = measured[-2:]
    return v2 + max(0.0, (v2 - v1) / (n2 - n1)) * (steps - n2)


def skip_reason(rows: list[dict], steps: int, max_mib: float, max_seconds: float) -> str | None:
    """Why a depth is not measured: an earlier failure, or a peak or a time extrapolated beyond the budget."""
    if any(r.get("note") and not r["note"].startswith("skipped") for r in rows):
        return "skipped after a failure at a smaller N"
    peak, seconds = extrapolated(rows, "peak_mib", steps), extrapolated(rows, "seconds", steps)
    if peak > max_mib:
        return f"skipped: extrapolated peak {peak:.0f} MiB > --max-mib {max_mib:.0f}"
    if seconds > max_seconds:
        return f"skipped: extrapolated time {seconds:.0f} s > --max-seconds {max_seconds:.0f}"
    return None


def growth_table(rows: list[dict]) -> str:
    """Per mode: peak at the smallest and largest measured depth, and the ratio."""
    table = []
    for mode in MODES:
        measured = sorted((r["steps"], r["peak_mib"]) for r in rows if r["mode"] == mode and r.get("peak_mib"))
        if len(measured) >= 2:
            (n1, p1), (n2, p2) = measured[0], measured[-1]
            table.append({"mode": mode, "N_small": n1, "peak_small": p1, "N_large": n2, "peak_large": p2,
                          "growth_mib": p2 - p1, "ratio": p2 / p1})
    columns = ["mode", "N_small", "peak_small", "N_large", "peak_large", "growth_mib", "ratio"]
    return markdown_table(table, columns)


def plot(rows: list[dict], path: Path) -> None:
    fig = Figure(figsize=(10, 3.8), dpi=110)
    (memory, time) = fig.subplots(1, 2)
    for mode in MODES:
        points = sorted((r["steps"], r["peak_mib"], r["seconds"]) for r in rows
                        if r["mode"] == mode and r.get("peak_mib") is not None)
        if points:
            steps, peaks, seconds = zip(*points)
            memory.plot(steps, peaks, marker="o", label=mode)
            time.plot(steps, seconds, marker="o", label=mode)
    nodes = rows[0]["nodes"] if rows else 0
    memory.set(xscale="log", yscale="log", xlabel="steps N", ylabel="peak memory of forward+backward (MiB)",
               title=f"{nodes} nodes × {rows[0]['channels'] if rows else 0} channels")
    time.set(xscale="log", yscale="log", xlabel="steps N", ylabel="seconds, forward+backward")
    for ax in (memory, time):
        ax.grid(True, alpha=0.3)
    memory.legend(fontsize=8)
    fig.tight_layout()
    write_png(path, fig)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    store = RunStore(out)
    steps = sorted(args.steps or (QUICK_STEPS if args.quick else STEPS))
    nodes = args.nodes or (2000 if args.quick else 20000)
    rows = []
    points = [(mode, n) for mode in args.modes for n in steps]
    for mode, n in progress(points, "memory-depth"):
        workload = Workload(nodes=nodes, channels=args.channels, alpha=args.alpha, gamma=args.gamma,
                            step_size=args.step_size, steps=n, degree=args.degree, seed=args.seed)
        key = f"{mode}/N={n}/nodes={nodes}/channels={args.channels}/alpha={args.alpha}/dt={args.step_size}"
        if not store.done(key):
            reason = skip_reason([r for r in rows if r["mode"] == mode], n, args.max_mib, args.max_seconds)
            if reason:
                row = {"mode": mode, **workload.as_dict(), "peak_mib": None, "seconds": None, "note": reason}
            else:
                row = run_isolated(partial(measure, workload, mode, device=args.device), args.threads)
                if "error" in row:
                    row = {"mode": mode, **workload.as_dict(), "peak_mib": None, "seconds": None,
                           "note": row["error"].strip().splitlines()[-1]}
            store.record(key, row)
        rows.append(store.records[key])
    device = next((r["device"] for r in rows if r.get("device")), args.device)
    notes = (f"One forward + backward of eq. (4), loss mean(X(T)²), generated contextual-SBM graph, "
             f"α = {args.alpha}, γ = {args.gamma}, Δt = {args.step_size}, device {device}. Peak = growth of the "
             f"resident set (CPU, mmap threshold 16 KiB) or max_memory_allocated (CUDA) in a fresh process.\n\n"
             + growth_table(rows))
    write_results(out, rows, COLUMNS, "Backward modes: peak memory and time against depth", notes)
    plot(rows, out / "memory_depth.png")
    print((out / "results.md").read_text())
    return 0 if all(math.isfinite(r["peak_mib"]) for r in rows if r.get("peak_mib") is not None) else 1
