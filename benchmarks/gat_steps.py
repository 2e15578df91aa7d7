"""GraphCON-GAT on the cached CSR attention pattern against PyG's GATConv: N steps of eq. (4), and Cora epochs.

Part ``steps``: the same GAT layer (64 channels, 4 heads, heads averaged, self-loops) drives N = 16 steps of eq. (4)
(Δt = 0.1, α = γ = 1, σ = ReLU) on a contextual-SBM graph, forward + backward of a scalar loss:

- ``library``: ``graphcon_ode.odeint(field, ..., method="imex")`` with the ``GAT`` coupling, whose attention runs on
  the CSR pattern built once per bound graph (:mod:`graphcon_ode.couplings.csr_attention`);
- ``hand, GATConv``: eq. (4) as a plain loop over PyG's ``GATConv(x, edge_index)`` (its per-edge gather, multiply
  and scatter, self-loops added at every call);
- ``hand, CSR attention``: the same plain loop with the layer applied on the library's pattern, which separates the
  attention's cost from the ODE machinery's.

Part ``composed``: the same 16 steps (hand loop) with the library's attention against a composed variant of it:
the softmax written with differentiable torch ops on the [E·heads] values (autograd keeps its intermediates) and only
the sparse product a custom Function (its backward: transposed product and SDDMM), i.e. the choice between one
fused ``autograd.Function`` and composed ops.

Part ``cora-epoch``: Cora GraphCON-GAT epochs (training step + validation forward, the paper's settings) of the
library against the authors' form of the model, a plain loop over PyG's GATConv, as ``benchmarks/epoch_time.py``
builds both.

Rounds are interleaved (each variant once per round, in turn); the script prints medians, the median over rounds of
each ratio, the load average before and after, and writes the parts it ran into
``docs/results/performance/gat_steps.json`` (the other parts' records there are kept).

    OMP_NUM_THREADS=1 python benchmarks/gat_steps.py --data-root ../shared/data [--part steps composed cora-epoch]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from epoch_time import interleaved, make_epoch, plain_variants
from imex_vs_loop import hand_loop
from torch import Tensor

from experiments.node_experiment import build_model, load_task, settings_for
from graphcon_ode import GAT, GraphCONField, odeint
from graphcon_ode.couplings.csr_attention import _SOFTMAX_EPS, AttentionPattern, _csr, _matrices, _segment, gat_conv
from graphcon_ode.datasets.synthetic import contextual_sbm
from graphcon_ode.results import write_atomic

RECORD = Path(__file__).resolve().parents[1] / "docs" / "results" / "performance" / "gat_steps.json"
PARTS = ("steps", "composed", "cora-epoch")
TARGETS = {"steps": ("library / hand, GATConv", 0.67), "cora-epoch": ("plain, PyG layer / library", 1.5)}
"""The ratio a part is judged by and its threshold (at most 0.67 for the steps, at least 1.5 for the epoch)."""


class _Product(torch.autograd.Function):
    """(α, P) → (1/H) [A^1 … A^H] P, the averaged heads' product alone, with the library's pattern."""

    @staticmethod
    def forward(ctx, values: Tensor, projected: Tensor, pattern: AttentionPattern) -> Tensor:
        n, heads, channels = projected.shape
        flat = projected.reshape(n * heads, channels)
        (crow, col, size), _ = _matrices(pattern, False)
        ctx.pattern = pattern
        ctx.save_for_backward(values, flat)
        return (_csr(crow, col, values, size) @ flat).div_(heads)

    @staticmethod
    def backward(ctx, grad: Tensor):
        pattern = ctx.pattern
        values, flat = ctx.saved_tensors
        grad = grad / pattern.heads
        (crow, col, size), col_t = _matrices(pattern, False)
        transposed = _csr(pattern.column_crow, col_t, values.index_select(0, pattern.transpose), size[::-1])
        sampled = _csr(crow, col, torch.zeros_like(values), size)
        grad_values = torch.sparse.sampled_addmm(sampled, grad, flat.t(), beta=0.0).values()
        return grad_values, (transposed @ grad).view(pattern.num_nodes, pattern.heads, -1), None


def composed_gat(conv, pattern: AttentionPattern, x: Tensor) -> Tensor:
    """:func:`gat_conv` (heads averaged, no dropout) with the softmax by differentiable torch ops."""
    heads, channels = conv.heads, conv.out_channels
    projected = conv.lin(x).view(-1, heads, channels)
    attention = torch.stack([conv.att_src[0], conv.att_dst[0]])
    folded = torch.einsum("hci,khc->ikh", conv.lin.weight.view(heads, channels, -1), attention)
    scores = (x @ folded.flatten(1)).view(-1, 2, heads)
    segment = pattern.segment.long()
    logits = scores[:, 0].reshape(-1)[pattern.column.long()] + scores[:, 1].reshape(-1)[segment]
    logits = torch.nn.functional.leaky_relu(logits, 0.2)
    weights = (logits - _segment(logits.detach(), pattern.segment_crow, "max")[segment]).exp()
    total = torch.zeros(pattern.num_nodes * heads, dtype=weights.dtype).index_add(0, segment, weights)
    return _Product.apply(weights / (total + _SOFTMAX_EPS)[segment], projected, pattern) + conv.bias


def load() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def summary(times: dict[str, list[float]], ratios: dict[str, tuple[str, str]]) -> dict:
    """Medians (ms) and the median over rounds of each named ratio a / b."""
    return {"median_ms": {name: statistics.median(v) * 1e3 for name, v in times.items()},
            "ratios": {label: statistics.median(x / y for x, y in zip(times[a], times[b]))
                       for label, (a, b) in ratios.items()}}


def part_steps(args) -> dict:
    data = contextual_sbm(num_nodes=args.nodes, num_features=args.channels, homophily=0.5, seed=0)
    edge_index = data.edge_index
    torch.manual_seed(0)
    coupling = GAT(args.channels, heads=args.heads)
    bound = GraphCONField(coupling, alpha=1.0, gamma=1.0).bind(edge_index)
    conv = coupling.layers[0]
    x0 = torch.randn(args.nodes, args.channels, requires_grad=True)
    pattern = bound._graph_args(x0)["pattern"]
    dt, steps = args.step_size, args.steps
    t = torch.tensor([0.0, steps * dt])

    def backward(x: Tensor) -> None:
        x.square().mean().backward()

    variants: dict[str, Callable[[], None]] = {
        "library": lambda: backward(odeint(bound, (x0, x0), t, method="imex", options={"step_size": dt})[0][-1]),
        "hand, GATConv": lambda: backward(hand_loop(lambda x: conv(x, edge_index), x0, x0, steps, dt, 1.0, 1.0)),
        "hand, CSR attention": lambda: backward(
            hand_loop(lambda x: gat_conv(conv, pattern, x), x0, x0, steps, dt, 1.0, 1.0)),
    }
    grads = {}
    for name, fn in variants.items():
        x0.grad = None
        fn()
        grads[name] = x0.grad.clone()
    before = load()
    times = interleaved(variants, args.repeats)
    record = summary(times, {"library / hand, GATConv": ("library", "hand, GATConv"),
                             "hand, CSR attention / hand, GATConv": ("hand, CSR attention", "hand, GATConv"),
                             "library / hand, CSR attention": ("library", "hand, CSR attention")})
    reference = grads["hand, GATConv"]
    record.update(
        setting={"graph": "contextual SBM, homophily 0.5, seed 0", "nodes": args.nodes,
                 "edges": int(edge_index.shape[1]), "channels": args.channels, "heads": args.heads, "steps": steps,
                 "step_size": dt, "alpha": 1.0, "gamma": 1.0, "activation": "relu", "dtype": "float32",
                 "rounds": args.repeats, "measured": "forward + backward of mean(X_N^2)"},
        max_abs_grad_difference={name: float((g - reference).abs().max()) for name, g in grads.items()},
        load_average_before=before, load_average_after=load())
    print(f"\n{args.nodes} nodes, {edge_index.shape[1]} edges, {args.channels} channels, {args.heads} heads, {steps} "
          f"imex steps of Δt = {dt}, forward + backward, {args.repeats} interleaved rounds")
    return record


def part_composed(args) -> dict:
    data = contextual_sbm(num_nodes=args.nodes, num_features=args.channels, homophily=0.5, seed=0)
    torch.manual_seed(0)
    coupling = GAT(args.channels, heads=args.heads)
    conv = coupling.layers[0]
    pattern = coupling.prepare(data.edge_index, args.nodes)["pattern"]
    x0 = torch.randn(args.nodes, args.channels, requires_grad=True)
    dt, steps = args.step_size, args.steps

    def solve(layer: Callable) -> Callable[[], None]:
        return lambda: hand_loop(lambda x: layer(conv, pattern, x), x0, x0, steps, dt, 1.0, 1.0).square().mean(
            ).backward()

    variants = {"fused Function (library)": solve(gat_conv), "composed softmax": solve(composed_gat)}
    with torch.no_grad():
        difference = float((gat_conv(conv, pattern, x0) - composed_gat(conv, pattern, x0)).abs().max())
    before = load()
    times = interleaved(variants, args.repeats)
    record = summary(times, {"composed softmax / fused Function (library)": ("composed softmax",
                                                                             "fused Function (library)")})
    record.update(setting={"nodes": args.nodes, "channels": args.channels, "heads": args.heads, "steps": steps,
                           "rounds": args.repeats, "measured": "hand loop of eq. (4), forward + backward"},
                  max_abs_output_difference=difference, load_average_before=before, load_average_after=load())
    print(f"\nFused Function against composed softmax: {args.nodes} nodes, {steps} steps (hand loop), forward + "
          f"backward, {args.repeats} interleaved rounds")
    return record


def part_cora_epoch(args) -> dict:
    task = load_task("cora", args.data_root, 1, 0)
    data = task.data
    settings = settings_for("cora", "graphcon-gat")
    torch.manual_seed(0)
    library = build_model("graphcon-gat", settings, data.num_features, task.classes)
    variants = {"library": library, **plain_variants("graphcon-gat", library, data.edge_index, data.num_nodes)}
    epochs = {name: make_epoch(net, task, settings) for name, net in variants.items()}
    before = load()
    times = interleaved(epochs, args.repeats)
    record = summary(times, {"plain, PyG layer / library": ("plain, PyG layer", "library")})
    record.update(
        setting={"graph": f"Cora, largest connected component ({data.num_nodes} nodes, "
                          f"{data.edge_index.shape[1]} edges)", "steps": settings.layers,
                 "step_size": settings.step_size, "channels": settings.hidden, "heads": settings.heads,
                 "rounds": args.repeats, "measured": "one epoch: training step + validation forward"},
        load_average_before=before, load_average_after=load())
    print(f"\nCora GraphCON-GAT epochs ({settings.layers} steps of Δt = {settings.step_size}, {settings.hidden} "
          f"channels, {settings.heads} heads), {args.repeats} interleaved rounds")
    return record


def report(name: str, record: dict) -> None:
    for variant, ms in record["median_ms"].items():
        print(f"{variant:<24}{ms:>12.1f} ms")
    for ratio, value in record["ratios"].items():
        print(f"{ratio:<46}{value:>8.3f}")
    print(f"load average {record['load_average_before']} -> {record['load_average_after']}")
    if name not in TARGETS:
        return
    label, threshold = TARGETS[name]
    value = record["ratios"][label]
    met = value <= threshold if name == "steps" else value >= threshold
    record["target"] = {"ratio": label, "threshold": threshold, "met": met}
    print(f"target {label} {'<=' if name == 'steps' else '>='} {threshold}: {'met' if met else 'not met'} "
          f"({value:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--part", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--step-size", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--record", type=Path, default=RECORD, help="where the JSON record goes")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, torch threads {threads}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    parts = {"steps": part_steps, "composed": part_composed, "cora-epoch": part_cora_epoch}
    command = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python {' '.join(sys.argv)}"
    record = json.loads(args.record.read_text()) if args.record.exists() else {}
    for name in args.part:
        record[name] = parts[name](args)
        report(name, record[name])
        record[name].update(torch=torch.__version__, threads=threads, command=command)
    write_atomic(args.record, json.dumps(record, indent=1) + "\n")
    print(f"\nwritten {args.record}")


if __name__ == "__main__":
    main()
