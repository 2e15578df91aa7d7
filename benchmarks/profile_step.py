"""Where the time of one GraphCON-GCN training step goes, and what each layout of the coupling costs.

Profiles one forward + backward of an N-layer GraphCON-GCN (``torch.profiler``, top operators by self CPU time),
then times the same step with three versions of the GCN coupling, interleaved:

- ``pyg-normalise-each-step``: PyG's GCNConv as given, through ``from_pyg`` — it re-normalises the graph
  at every step;
- ``edge-list-cached``: normalisation cached once per bound graph, product by scatter over the edge list;
- ``csr-cached``: cached as a sparse CSR matrix, multiplied by PyG's GCNConv (torch.sparse transposes the matrix
  at every backward call);
- ``csr-cached-transpose`` (the library's ``GCN``): CSR matrix and its transpose cached, applied by
  :class:`graphcon_ode.sparse.SparseOperator`.

    python benchmarks/profile_step.py [--nodes 20000] [--channels 64] [--steps 32] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphcon_ode import GCN, Coupling, GraphCONField, from_pyg, odeint
from graphcon_ode.sparse import SparseOperator
from graphcon_ode.synthetic import contextual_sbm


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    data = contextual_sbm(num_nodes=args.nodes, num_features=args.channels, homophily=0.5, seed=0)
    x0 = torch.randn(args.nodes, args.channels)
    t = torch.tensor([0.0, float(args.steps)])
    torch.manual_seed(0)
    reference = GCN(args.channels)
    couplings = {
        "pyg-normalise-each-step": from_pyg(GCNConv(args.channels, args.channels)),
        "edge-list-cached": EdgeListGCN(args.channels),
        "csr-cached": CsrGCN(args.channels),
        "csr-cached-transpose": GCN(args.channels),
    }
    steps = {}
    for name, coupling in couplings.items():
        coupling.layers[0].load_state_dict(reference.layers[0].state_dict())
        field = GraphCONField(coupling, alpha=1.0, gamma=1.0).bind(data.edge_index)

        def step(field=field):
            xs, _ = odeint(field, (x0, x0), t, method="imex", options={"step_size": 1.0})
            xs[-1].square().mean().backward()

        steps[name] = step

    steps["csr-cached-transpose"]()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps["csr-cached-transpose"]()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))

    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["pyg-normalise-each-step"])
    print(f"{args.nodes} nodes, {data.edge_index.shape[1]} edges, {args.channels} channels, {args.steps} steps, "
          f"forward + backward, median of {args.repeats} interleaved repeats, torch threads {torch.get_num_threads()}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<26} {median * 1e3:9.1f} ms   speed-up ×{base / median:.2f}")


if __name__ == "__main__":
    main()
