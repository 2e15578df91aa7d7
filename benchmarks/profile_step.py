"""Where the time of a GraphCON training step goes, and the fixes it led to, each timed before/after, interleaved.

Parts (``--part``, default all):

- ``profile``: ``torch.profiler`` tables (top operators by self CPU time) of one training epoch of GraphCON-GCN
  and GraphCON-GAT on Cora at the paper's settings (as ``benchmarks/epoch_time.py`` runs them).
- ``layouts``: the GCN coupling's sparse layout, forward + backward of 32 imex steps on a 20000-node graph:
  PyG's GCNConv re-normalising the graph at every step (``from_pyg``); the normalisation cached as an edge list
  (product by scatter); cached as CSR (torch.sparse transposes it at every backward call); CSR with its transpose
  cached (the library's ``GCN``, :class:`graphcon_ode.sparse.SparseOperator`).
- ``bind-cache``: a Cora GraphCON-GCN epoch with the bound field kept across forward passes (the library's
  ``GraphCONNodeModel.bound_field``) against binding, i.e. validating and normalising the graph, at every pass.
- ``finite-check``: ``odeint``'s check that X0 and Y0 are finite, by one sum (the library's
  :func:`graphcon_ode.odeint.all_finite`) against the elementwise ``torch.isfinite(x).all()``, on a Cora-sized solve
  (2485 × 64 state, 2 imex steps of Δt = 1, forward + backward).
- ``fused``: 32 imex steps, forward + backward, on the 20000-node graph, with the library's fused updates
  (``p.add(a, alpha=Δt)``, ``sub(x, alpha=γ)``) against the same updates written as separate operations
  (p + Δt·(g − γq − αp)), and against the update compiled by ``torch.compile`` (first call's time printed).
- ``compile-coupling``: Cora epochs with the coupling compiled in place (``model.field.coupling.compile()``)
  against eager, for GCN and GAT (first epochs' time, which includes compiling, printed).

    python benchmarks/profile_step.py --data-root ../shared/data [--part profile layouts ...] [--repeats 7]
"""

from __future__ import annotations

import argparse
import copy
import importlib
import time
from collections.abc import Callable

import torch
from epoch_time import interleaved, make_epoch, print_times
from torch import Tensor
from torch.profiler import ProfilerActivity, profile
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from experiments.node_experiment import build_model, load_task, settings_for
from graphcon_ode import GCN, Coupling, GraphCONField, from_pyg
from graphcon_ode.datasets.synthetic import contextual_sbm
from graphcon_ode.sparse import SparseOperator
from solvers import Imex, integrate

front = importlib.import_module("graphcon_ode.odeint")  # the module; the package's name "odeint" is the function
PARTS = ("profile", "layouts", "bind-cache", "finite-check", "fused", "compile-coupling")


class EdgeListGCN(GCN):
    """The GCN coupling with its normalisation cached as an edge list, applied by PyG's GCNConv."""

    forward = Coupling.forward

    def prepare(self, edge_index, num_nodes, **graph):
        edge_index, edge_weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True, dtype=torch.float64)
        return {"edge_index": edge_index, "edge_weight": edge_weight}


class CsrGCN(EdgeListGCN):
    """The GCN coupling with its normalisation cached as a sparse CSR matrix, applied by PyG's GCNConv."""

    def prepare(self, edge_index, num_nodes, **graph):
        return {"edge_index": SparseOperator(*super().prepare(edge_index, num_nodes).values(), num_nodes).matrix}


class SeparateOpsImex(Imex):
    """Eq. (4) with every update written as separate tensor operations: p⁺ = p + Δt(g − γq − αp), q⁺ = q + Δt p⁺."""

    def step(self, system, t, dt, q, p):
        p_next = p + dt * (system.force(t, q) - system.gamma * q - system.alpha * p)
        return q + dt * p_next, p_next


def _update(g: Tensor, q: Tensor, p: Tensor, dt: float, alpha: float, gamma: float) -> tuple[Tensor, Tensor]:
    p_next = p + dt * (g - gamma * q - alpha * p)
    return q + dt * p_next, p_next


class CompiledUpdateImex(Imex):
    """Eq. (4) with the elementwise update (everything but the force) compiled into one kernel by torch.compile."""

    update = staticmethod(torch.compile(_update, fullgraph=True, dynamic=False))

    def step(self, system, t, dt, q, p):
        return self.update(system.force(t, q), q, p, dt, system.alpha, system.gamma)


def synthetic(nodes: int, channels: int) -> tuple[Tensor, Tensor]:
    data = contextual_sbm(num_nodes=nodes, num_features=channels, homophily=0.5, seed=0)
    return data.edge_index, torch.randn(nodes, channels)


def solve_and_backward(field, x0: Tensor, steps: int, dt: float, method: Imex | None = None) -> None:
    """``steps`` steps of ``method`` (default the library's imex) in the library's loop, then a backward pass."""
    t = torch.tensor([0.0, steps * dt])
    xs, _ = integrate(method or Imex(), field, x0, x0, t, dt)
    xs[-1].square().mean().backward()


def part_profile(task, repeats: int) -> None:
    for model in ("graphcon-gcn", "graphcon-gat"):
        settings = settings_for("cora", model)
        torch.manual_seed(0)
        epoch = make_epoch(build_model(model, settings, task.data.num_features, task.classes), task, settings)
        epoch()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(repeats):
                epoch()
        print(f"\n{model} on Cora, {repeats} epochs profiled (training step + validation forward each)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def part_layouts(args) -> None:
    edge_index, x0 = synthetic(args.nodes, args.channels)
    torch.manual_seed(0)
    reference = GCN(args.channels)
    couplings = {
        "pyg-normalise-each-step": from_pyg(GCNConv(args.channels, args.channels)),
        "edge-list-cached": EdgeListGCN(args.channels),
        "csr-cached": CsrGCN(args.channels),
        "csr-cached-transpose": GCN(args.channels),
    }
    variants = {}
    for name, coupling in couplings.items():
        coupling.layers[0].load_state_dict(reference.layers[0].state_dict())
        field = GraphCONField(coupling, alpha=1.0, gamma=1.0).bind(edge_index)
        variants[name] = lambda field=field: solve_and_backward(field, x0, args.steps, 1.0)
    print(f"\nGCN coupling layouts: {args.nodes} nodes, {edge_index.shape[1]} edges, {args.channels} channels, "
          f"{args.steps} imex steps, forward + backward, {args.repeats} interleaved rounds")
    print_times(interleaved(variants, args.repeats), "pyg-normalise-each-step")


def part_bind_cache(task, args) -> None:
    settings = settings_for("cora", "graphcon-gcn")
    torch.manual_seed(0)
    cached = build_model("graphcon-gcn", settings, task.data.num_features, task.classes)
    rebinding = copy.deepcopy(cached)
    rebinding.bound_field = lambda edge_index, x0: rebinding.field.bind(edge_index)
    variants = {"bound field kept (library)": make_epoch(cached, task, settings),
                "bound at every forward pass": make_epoch(rebinding, task, settings)}
    print(f"\nGraph preprocessing once per graph vs once per forward pass: Cora GraphCON-GCN epochs, "
          f"{args.repeats} interleaved rounds")
    print_times(interleaved(variants, args.repeats), "bound field kept (library)", "ms/epoch")


def part_finite_check(args) -> None:
    edge_index, x0 = synthetic(2485, args.channels)
    x0.requires_grad_(True)
    torch.manual_seed(0)
    field = GraphCONField(GCN(args.channels), alpha=1.0, gamma=1.0).bind(edge_index)
    t = torch.tensor([0.0, 2.0])
    by_sum = front.all_finite

    def solve_with(check: Callable[[Tensor], bool]) -> Callable[[], None]:
        def solve() -> None:
            front.all_finite = check
            try:
                xs, _ = front.odeint(field, (x0, x0), t, method="imex", options={"step_size": 1.0})
            finally:
                front.all_finite = by_sum
            xs[-1].square().mean().backward()

        return solve

    variants = {"one sum (library)": solve_with(by_sum),
                "elementwise isfinite": solve_with(lambda x: bool(torch.isfinite(x).all()))}
    print(f"\nFinite check of the initial state: 2485 nodes, {args.channels} channels, 2 imex steps through odeint, "
          f"forward + backward, {4 * args.repeats} interleaved rounds")
    print_times(interleaved(variants, 4 * args.repeats), "one sum (library)")


def part_fused(args) -> None:
    edge_index, x0 = synthetic(args.nodes, args.channels)
    x0.requires_grad_(True)
    torch.manual_seed(0)
    field = GraphCONField(GCN(args.channels), alpha=1.0, gamma=1.0).bind(edge_index)
    dt = 0.1
    variants: dict[str, Callable[[], None]] = {
        "fused in-place (library)": lambda: solve_and_backward(field, x0, args.steps, dt),
        "separate operations": lambda: solve_and_backward(field, x0, args.steps, dt, SeparateOpsImex()),
        "torch.compile'd update": lambda: solve_and_backward(field, x0, args.steps, dt, CompiledUpdateImex()),
    }
    start = time.perf_counter()
    variants["torch.compile'd update"]()
    print(f"\nElementwise updates: {args.nodes} nodes, {args.channels} channels, {args.steps} imex steps of Δt = {dt}, "
          f"forward + backward, {args.repeats} interleaved rounds; first call with compiling "
          f"{time.perf_counter() - start:.1f} s")
    print_times(interleaved(variants, args.repeats), "fused in-place (library)")


def part_compile_coupling(task, args) -> None:
    for model in ("graphcon-gcn", "graphcon-gat"):
        settings = settings_for("cora", model)
        torch.manual_seed(0)
        eager = build_model(model, settings, task.data.num_features, task.classes)
        compiled = copy.deepcopy(eager)
        compiled.field.coupling.compile(dynamic=False)
        variants = {"eager (library default)": make_epoch(eager, task, settings),
                    "coupling compiled": make_epoch(compiled, task, settings)}
        start = time.perf_counter()
        for _ in range(2):
            variants["coupling compiled"]()
        print(f"\n{model} on Cora with the coupling compiled: first two epochs (compiling for training and for "
              f"evaluation) {time.perf_counter() - start:.1f} s; {args.repeats} interleaved rounds")
        print_times(interleaved(variants, args.repeats), "eager (library default)", "ms/epoch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--part", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--nodes", type=int, default=20000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}")
    task = load_task("cora", args.data_root, 1, 0) if {"profile", "bind-cache", "compile-coupling"} & set(
        args.part) else None
    if "profile" in args.part:
        part_profile(task, args.repeats)
    if "layouts" in args.part:
        part_layouts(args)
    if "bind-cache" in args.part:
        part_bind_cache(task, args)
    if "finite-check" in args.part:
        part_finite_check(args)
    if "fused" in args.part:
        part_fused(args)
    if "compile-coupling" in args.part:
        part_compile_coupling(task, args)


if __name__ == "__main__":
    main()
