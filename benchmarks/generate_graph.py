"""Time to generate a degree-corrected SBM (:func:`graphcon_ode.datasets.degree_corrected_sbm`) of 10⁶ nodes and
~10⁷ directed edges, with its degree and homophily statistics, on one thread: wall-clock seconds and the CPU
seconds of the process (on a shared machine the wall time grows with the load, the CPU time much less).

    OMP_NUM_THREADS=1 python benchmarks/generate_graph.py [--nodes 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import torch

from graphcon_ode.datasets import degree_corrected_sbm
from graphcon_ode.datasets.synthetic import edge_homophily


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed in range(args.repeats):
        load = os.getloadavg()[0]
        start, cpu_start = time.perf_counter(), time.process_time()
        data = degree_corrected_sbm(args.nodes, average_degree=10, homophily=0.7, seed=seed)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        degree = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
        print(json.dumps({"nodes": data.num_nodes, "edges": data.num_edges, "seconds": seconds,
                          "cpu_seconds": cpu_seconds,
                          "mean_degree": float(degree.float().mean()), "max_degree": int(degree.max()),
                          "edge_homophily": edge_homophily(data.edge_index, data.y), "load_average": load,
                          "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
