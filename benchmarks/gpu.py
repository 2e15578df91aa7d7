"""GraphCON-GCN on one CUDA device: the step's cost over its floor, the backward modes, a 10⁶-node epoch. One JSON.

1. One imex step of eq. (4), forward and backward, at 5·10⁵ nodes, 5·10⁶ random edges, 32 channels, against its
   floor: the two CSR products S·(XW) and Sᵀ·G (``torch.sparse.mm``) and the three dense [n, 32] × [32, 32]
   products (XW forward; G·Wᵀ and Xᵀ·G backward) timed alone. ``step_over_floor`` is their ratio.
2. Every backward mode (backprop, checkpoint, reversible, exact_reversal, adjoint) on 5·10⁴ nodes, N = 32 steps:
   time of forward + backward and peak memory (``torch.cuda.max_memory_allocated``). A mode that refuses or fails
   is recorded with its error, and the others still run.
3. One full-batch training epoch (forward, cross-entropy, backward, Adam) of the node model on 10⁶ nodes.

Times come from CUDA events around ``repeats`` calls after a warm-up, with ``torch.cuda.synchronize`` before
reading them. Needs torch and torch_geometric and a CUDA device; no data set and no network. Without a CUDA device
it exits with status 2 and one line. Runs in about two minutes on an H200.

    python benchmarks/gpu.py [--out gpu.json]      (default: $OUT/gpu.json where $OUT is set, else ./gpu.json)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphcon_ode import GCN, GraphCONField, odeint
from graphcon_ode.models import GraphCONNodeModel
from graphcon_ode.results import write_atomic
from graphcon_ode.sparse import SparseOperator

BACKWARD = ("backprop", "checkpoint", "reversible", "exact_reversal", "adjoint")


def cuda_time(run: Callable[[], object], repeats: int) -> float:
    """Seconds per call of ``run`` on the current CUDA stream, after one warm-up call."""
    run()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(repeats):
        run()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3 / repeats


def random_graph(nodes: int, edges: int, device: torch.device) -> torch.Tensor:
    return torch.randint(nodes, (2, edges), device=device, generator=torch.Generator(device).manual_seed(0))


def step_over_floor(device: torch.device, repeats: int, nodes: int = 500_000, edges: int = 5_000_000,
                    channels: int = 32) -> dict:
    edge_index = random_graph(nodes, edges, device)
    torch.manual_seed(0)
    field = GraphCONField(GCN(channels), alpha=1.0, gamma=1.0).to(device)
    bound = field.bind(edge_index)
    x0 = torch.randn(nodes, channels, device=device, requires_grad=True)
    t = torch.tensor([0.0, 1.0], device=device)

    def step() -> None:
        xs, ys = odeint(bound, (x0, x0), t, options={"step_size": 1.0})
        (xs[-1].sum() + ys[-1].sum()).backward()

    operator = SparseOperator(*_normalised(edge_index, nodes)).to(device=device, dtype=torch.float32)
    x, w, g = (torch.randn(nodes, channels, device=device), torch.randn(channels, channels, device=device),
               torch.randn(nodes, channels, device=device))

    def floor() -> None:
        torch.sparse.mm(operator.matrix, x @ w)
        torch.sparse.mm(operator.transpose, g)
        g @ w.T
        x.T @ g

    step_s, floor_s = cuda_time(step, repeats), cuda_time(floor, repeats)
    return {"nodes": nodes, "edges": edges, "channels": channels, "step_s": step_s, "floor_s": floor_s,
            "step_over_floor": step_s / floor_s}


def _normalised(edge_index: torch.Tensor, nodes: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    edges, weight = gcn_norm(edge_index, None, nodes, add_self_loops=True, dtype=torch.float64)
    return edges, weight, nodes


def backward_modes(device: torch.device, repeats: int, nodes: int = 50_000, steps: int = 32,
                   channels: int = 32) -> list[dict]:
    edge_index = random_graph(nodes, 10 * nodes, device)
    return [backward_mode(mode, edge_index, device, repeats, nodes, steps, channels) for mode in BACKWARD]


def backward_mode(mode: str, edge_index: torch.Tensor, device: torch.device, repeats: int, nodes: int, steps: int,
                  channels: int) -> dict:
    """Forward + backward time and peak memory above the inputs of N = ``steps`` imex steps with ``mode``."""
    torch.manual_seed(0)
    bound = GraphCONField(GCN(channels), alpha=1.0, gamma=1.0).to(device).bind(edge_index)
    x0 = torch.randn(nodes, channels, device=device, requires_grad=True)
    t = torch.tensor([0.0, steps * 0.1], device=device)

    def solve() -> None:
        xs, _ = odeint(bound, (x0, x0), t, options={"step_size": 0.1}, backward=mode)
        xs[-1].square().sum().backward()

    row: dict = {"backward": mode, "nodes": nodes, "steps": steps, "channels": channels}
    try:
        solve()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        row["time_s"] = cuda_time(solve, repeats)
        row["peak_mib"] = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    except (RuntimeError, ValueError, OverflowError) as error:
        row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return row


def full_batch_epoch(device: torch.device, repeats: int, nodes: int = 1_000_000, edges: int = 10_000_000,
                     features: int = 128, hidden: int = 32, classes: int = 10, layers: int = 8) -> dict:
    edge_index = random_graph(nodes, edges, device)
    g = torch.Generator(device).manual_seed(1)
    x = torch.randn(nodes, features, device=device, generator=g)
    y = torch.randint(classes, (nodes,), device=device, generator=g)
    torch.manual_seed(0)
    model = GraphCONNodeModel(features, hidden, classes, num_layers=layers, step_size=1.0).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x, edge_index), y).backward()
        optimizer.step()

    torch.cuda.reset_peak_memory_stats(device)
    seconds = cuda_time(epoch, repeats)
    return {"nodes": nodes, "edges": edges, "features": features, "hidden": hidden, "layers": layers,
            "epoch_s": seconds, "peak_mib": torch.cuda.max_memory_allocated(device) / 2**20}


def default_out() -> Path:
    return Path(os.environ["OUT"]) / "gpu.json" if os.environ.get("OUT") else Path("gpu.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="the JSON record (default $OUT/gpu.json)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA device (torch.cuda.is_available() is False); nothing measured",
              file=sys.stderr)
        return 2
    device = torch.device("cuda")
    record = {"device": torch.cuda.get_device_name(device), "torch": torch.__version__,
              "cuda": torch.version.cuda, "step_over_floor": step_over_floor(device, args.repeats),
              "backward_modes": backward_modes(device, args.repeats),
              "full_batch_epoch": full_batch_epoch(device, args.repeats)}
    out = args.out or default_out()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
