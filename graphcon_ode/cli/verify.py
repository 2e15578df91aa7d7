"""``graphcon-ode verify``: which of the paper's mathematical claims hold, measured.

Runs every check of :mod:`graphcon_ode.claims`, prints the table claim | paper eq. | verdict | evidence and writes
``DIR/verify.json``: a list of {claim, equation, verdict, evidence, value}. ``--thorough`` runs larger searches.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from graphcon_ode.claims import check_all
from graphcon_ode.results import markdown_table, write_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--thorough", action="store_true", help="more graphs, seeds and search trials (minutes)")
    parser.add_argument("--out", default="runs/verify", help="output folder for verify.json (default: runs/verify)")


def run(args: argparse.Namespace) -> int:
    rows = [finding.as_dict() for finding in check_all(args.thorough)]
    write_atomic(Path(args.out) / "verify.json", json.dumps(rows, indent=1, ensure_ascii=False))
    table = [{"claim": r["claim"], "paper eq.": r["equation"], "verdict": r["verdict"], "evidence": r["evidence"]}
             for r in rows]
    print(markdown_table(table, ["claim", "paper eq.", "verdict", "evidence"]), end="")
    print(f"\nwrote {Path(args.out) / 'verify.json'}")
    return 0
