"""Run under torchrun: ``graphcon-ode train`` once per backward mode in one process group.

    torchrun --standalone --nproc_per_node=2 tests/graphcon_ode/distributed_modes.py OUT MODE [MODE ...] -- TRAIN_ARGS

Each mode writes OUT/MODE/checkpoint.pt, as ``graphcon-ode train ... --distributed --backward MODE --out OUT/MODE``
would; one launch saves a torchrun start-up per mode.
"""

import argparse
import sys

import torch.distributed as dist

from graphcon_ode import train


def main() -> None:
    split = sys.argv.index("--")
    out, *modes = sys.argv[1:split]
    dist.init_process_group("gloo")
    for mode in modes:
        parser = argparse.ArgumentParser()
        train.add_arguments(parser)
        args = parser.parse_args(sys.argv[split + 1:] + ["--distributed", "--backward", mode, "--out", f"{out}/{mode}"])
        train.train(args)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
