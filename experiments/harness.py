"""The harness every experiment runs on: common options, resumable run records, results as JSON + markdown.

An experiment enumerates its runs, each with a key (e.g. "cora/graphcon-gcn/split3/seed7"), asks the
:class:`RunStore` which are done, runs the rest, and records each finished run at once (atomically), so a killed
sweep continues where it stopped. From the records it builds result rows and writes them with
:func:`write_results`: ``DIR/results.json`` (a list of flat rows) and ``DIR/results.md`` (a table).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tqdm.auto import tqdm

from graphcon_ode.cli.arguments import yes_no
from graphcon_ode.results import write_atomic

T = TypeVar("T")
Row = dict[str, Any]


def add_common_arguments(parser: argparse.ArgumentParser, default_out: str) -> None:
    """--quick, --data-root, --out and --seed, the options every experiment has."""
    parser.add_argument("--quick", action="store_true", help="a small, fast version of the experiment")
    parser.add_argument("--data-root", default=None,
                        help="folder of the raw datasets (default: $GRAPHCON_DATA)")
    parser.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    parser.add_argument("--seed", type=int, default=0, help="base random seed")


def add_settings_arguments(parser: argparse.ArgumentParser, settings: type, what: str,
                           choices: dict[str, Iterable[str]] | None = None) -> None:
    """One option per field of the dataclass ``settings`` (``--hidden``, ``--weight-decay``, …; not ``source``)
    that overrides the field's default for every selected ``what``: booleans take yes/no, a field named in
    ``choices`` takes only those names (so a wrong one is refused before any work)."""
    for field in dataclasses.fields(settings):
        if field.name == "source":
            continue
        kind = yes_no if isinstance(field.default, bool) else type(field.default)
        known = (choices or {}).get(field.name)
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=None,
                            choices=None if known is None else list(known),
                            help=f"override the default {field.name} of every selected {what} (default: its own)")


def overrides_from(args: argparse.Namespace, settings: type) -> dict[str, Any]:
    """The fields of ``settings`` given on the command line (see :func:`add_settings_arguments`)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(settings)
            if f.name != "source" and getattr(args, f.name, None) is not None}


class RunStore:
    """Finished runs of one experiment, kept in ``DIR/runs.json`` as {key: record}."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / "runs.json"
        self.records: dict[str, Row] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def done(self, key: str) -> bool:
        return key in self.records

    def record(self, key: str, row: Row) -> None:
        self.records[key] = row
        write_atomic(self.path, json.dumps(self.records, indent=1, sort_keys=True))

    def pending(self, keys: Iterable[str]) -> list[str]:
        return [key for key in keys if key not in self.records]


def progress(items: Sequence[T], desc: str, done: int = 0) -> Iterator[T]:
    """A progress bar over ``items`` (on stderr); ``done`` runs of the same sweep finished before (a resumed sweep)
    count from the start, so the bar shows finished runs of the whole sweep."""
    return iter(tqdm(items, desc=desc, leave=True, total=done + len(items), initial=done))


def sweep_bar(total: int, done: int, desc: str) -> tqdm:
    """One progress bar over every run of a sweep that spans several loops: ``done`` of ``total`` finished."""
    return tqdm(total=total, initial=done, desc=desc, leave=True)


def settings_key(settings: Any) -> str:
    """A short hash of the fields of the dataclass ``settings`` that differ from their defaults (``source``
    excluded), so that adding a field with a default keeps the keys of recorded runs."""
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)
              if f.name != "source" and getattr(settings, f.name) != f.default}
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else 0.0
