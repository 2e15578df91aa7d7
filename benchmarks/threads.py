"""Wall time of ``graphcon-ode demo`` against the number of torch threads, on the machine as it is and with every
core kept busy by other processes: the measurement behind the CLI's ``--threads`` default.

Each (condition, threads) pair runs the demo's training (both graphs, both models) in a fresh process with
``torch.set_num_threads(threads)``; rounds are interleaved. "busy" starts one spinning process per core for the
duration of the measurement, standing in for other users of a shared machine; "as is" adds none (the load average
at the time is printed beside it, since a shared machine is rarely idle).

    python benchmarks/threads.py [--epochs 30] [--repeats 2] [--threads 1 2] [--conditions "as is" busy]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

WORKLOAD = """
import time, torch
torch.set_num_threads({threads})
from graphcon_ode.cli.demo import run_demo
start = time.perf_counter()
run_demo(epochs={epochs})
print(time.perf_counter() - start)
"""


def spin() -> None:
    while True:
        pass


def time_once(threads: int, epochs: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    result = subprocess.run([sys.executable, "-c", WORKLOAD.format(threads=threads, epochs=epochs)], env=env,
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--conditions", nargs="+", choices=["as is", "busy"], default=["as is"],
                        help="'busy' keeps every core spinning meanwhile (costly on a shared machine)")
    args = parser.parse_args()
    rows = []
    for condition in args.conditions:
        spinners = []
        if condition == "busy":
            spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(os.cpu_count() or 1)]
            for p in spinners:
                p.start()
            time.sleep(1.0)
        load = os.getloadavg()[0]
        times: dict[int, list[float]] = {n: [] for n in args.threads}
        try:
            for _ in range(args.repeats):
                for n in args.threads:
                    times[n].append(time_once(n, args.epochs))
        finally:
            for p in spinners:
                p.terminate()
        for n in args.threads:
            rows.append({"condition": condition, "load_average_1min": round(load, 2), "threads": n,
                         "seconds_median": round(statistics.median(times[n]), 2), "seconds": times[n]})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
