"""``graphcon-ode report``: the results tables of ``docs/results/`` regenerated from the committed run records.

Each table that has records is one entry of :data:`TABLES`: its page, the column that names a row, and one function
that builds the table's cells from the records. In its page the table stands between two markers::

    <!-- report: table8 -->
    | model | N = 2 | ... |
    <!-- /report -->

``report`` rewrites every such table: a cell the records give is replaced by the regenerated text, a cell they do
not give (a published number, a command, a note) keeps the page's text, and a row the records give that the page
lacks is appended. ``report --check`` writes nothing and exits with 1 when a committed table differs from what the
records give, naming each. Both print the share of GraphCON runs that are under-trained
(:attr:`experiments.run_record.RunRecord.under_trained`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from experiments.harness import mean_std
from experiments.node_experiment import PAPER
from experiments.run_record import RunRecord, read_runs
from graphcon_ode.results import write_atomic
from solvers.registry import Registry

Cells = dict[str, str]
"""One row of a table: column header → cell text."""
Rows = dict[str, Cells]
"""A table's rows by the text of their naming column."""

END = "<!-- /report -->"
RUN_FILES = ("fidelity/*/runs.json", "heterophily/*.json", "depth*/runs.json")
"""The files under ``docs/results/`` that hold per-run records ({key: record})."""
MODEL_NAMES = {
    "gcn": "GCN", "gat": "GAT", "sage": "SAGE", "resnet": "ResNet", "gat-sep": "GAT-sep",
    "graphcon-gcn": "GraphCON-GCN", "graphcon-gat": "GraphCON-GAT", "graphcon-tran": "GraphCON-Tran",
    "graphcon-sep": "GraphCON-sep", "gcn-dropedge": "GCN + DropEdge", "gcn-tuned": "GCN*", "sage-tuned": "SAGE*",
    "gat-tuned": "GAT*", "graphcon-gcn-tuned": "GraphCON-GCN*",
}
DATASET_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "texas": "Texas", "wisconsin": "Wisconsin",
                 "cornell": "Cornell"}


@dataclasses.dataclass(frozen=True)
class Table:
    """A results table: the page under ``docs/results/`` that holds it, the column whose text names a row, and
    ``build``, which reads the records under ``docs/results/`` and returns the rows they give."""

    page: str
    key_column: str
    build: Callable[[Path], Rows]


def marker(name: str) -> str:
    return f"<!-- report: {name} -->"


def _rows(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def plus_minus(mean: float | None, std: float | None, digits: int = 1) -> str:
    """``mean ± std`` to ``digits`` decimals ("—" without a mean)."""
    if mean is None:
        return "—"
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _measured(row: dict[str, Any]) -> str:
    """A summary row's mean ± std, with "✓" when within one paper std of the paper's mean."""
    return plus_minus(row["mean"], row["std"]) + (" ✓" if row.get("within_paper_std") else "")


def _within(dataset: str, model: str, mean: float) -> str:
    paper_mean, paper_std = PAPER.get((dataset, model), (None, None))
    return " ✓" if paper_mean is not None and abs(mean - paper_mean) <= paper_std else ""


def _accuracy_cell(runs: Sequence[RunRecord], dataset: str) -> str:
    """Mean ± std of the test accuracy in % over ``runs``, "✓" when within one std of the paper's Table 2."""
    mean, std = mean_std([100 * run.metrics["test"] for run in runs])
    return plus_minus(mean, std) + _within(dataset, runs[0].model, mean)


def node_table(records: str) -> Callable[[Path], Rows]:
    """Tables 1 and 2: a row per model, "<Dataset> (measured)" and "<Dataset> (paper)" per dataset, from the
    summary rows in ``records``."""
    def build(results: Path) -> Rows:
        rows: Rows = defaultdict(dict)
        for row in _rows(results / records):
            model, dataset = MODEL_NAMES[row["model"]], DATASET_NAMES[row["dataset"]]
            rows[model]["model"] = model
            rows[model][f"{dataset} (measured)"] = _measured(row)
            rows[model][f"{dataset} (paper)"] = plus_minus(row["paper_mean"], row["paper_std"])
        return dict(rows)
    return build


DEPTH_RECORDS = {"table8.json": "α = γ = 1 (paper's setting)", "table8_alpha05.json": "α = 0.5, γ = 1"}
"""The depth sweeps of Table 8 at Δt = 1 and what their GraphCON-GCN rows are called."""
HORIZON_RECORDS = {"depth/results.json": "Δt = min(1, 4/N), 500 epochs",
                   "depth_low_memory/results.json": "Δt = min(1, 4/N), 500 epochs"}
"""The depth sweeps of one ODE on [0, 4] (``depth-sweep``'s defaults) and what their GraphCON-GCN rows are called."""


def depth_table(sweeps: dict[str, str]) -> Callable[[Path], Rows]:
    """Table 8: mean ± std by depth ("N = n") for each model of each sweep in ``sweeps`` (records file → the
    GraphCON-GCN row's setting; a file not there is skipped), and the paper's number per depth."""
    def build(results: Path) -> Rows:
        rows: Rows = defaultdict(dict)
        for records, setting in sweeps.items():
            if not (results / records).exists():
                continue
            for row in _rows(results / records):
                name = MODEL_NAMES[row["model"]]
                label = f"{name}, {setting}" if row["model"].startswith("graphcon") else name
                column = f"N = {row['layers']}"
                rows[label][column] = plus_minus(row["mean"], row["std"])
                if row["paper_mean"] is not None:
                    rows[f"{name} (paper)"][column] = plus_minus(row["paper_mean"], None)
        return {label: {"model": label, **cells} for label, cells in rows.items()}
    return build


FIG2_COLUMNS = {"fig2_energy.csv": "E(X¹⁰⁰)/E(X⁰), weights per layer",
                "fig2_energy_shared.csv": "E(X¹⁰⁰)/E(X⁰), shared weights"}


def fig2(results: Path) -> Rows:
    """Fig. 2: the Dirichlet energy of the last layer over that of the first, per model, from the energy CSVs."""
    rows: Rows = defaultdict(dict)
    for records, column in FIG2_COLUMNS.items():
        with (results / records).open() as handle:
            table = list(csv.DictReader(handle))
        for model in table[0]:
            if model == "layer":
                continue
            label = re.sub(r" \((α = [0-9.]+)\)$", r", \1", model)
            rows[label].update(model=label, **{column: f"{float(table[-1][model]) / float(table[0][model]):.1e}"})
    return dict(rows)


def heterophily(results: Path) -> Rows:
    """The heterophily results: test ROC AUC in % (mean ± std over the splits), splits × epoch budget and the
    summed wall time of every folder of runs, a row per (set, model, protocol)."""
    rows: Rows = {}
    for path in sorted((results / "heterophily").glob("*.json")):
        runs = read_runs(path)
        hyper = json.loads(path.read_text())[runs[0].key]["hyperparameters"]
        model = MODEL_NAMES[runs[0].model]
        if runs[0].model == "graphcon-sep":
            model += ", per-step weights" if hyper.get("per_step") else ", shared weights"
        budget = f"{len(runs)} × {runs[0].epoch_budget}"
        mean, std = mean_std([100 * run.metrics["test"] for run in runs])
        rows[f"{runs[0].dataset} | {model} | {budget}"] = {
            "set": runs[0].dataset, "model": model, "splits × max epochs": budget,
            "here": plus_minus(mean, std, 2), "wall (s), all splits": f"{sum(run.seconds for run in runs):.0f}"}
    return rows


def _by_dataset(runs: Iterable[RunRecord]) -> dict[str, list[RunRecord]]:
    grouped: dict[str, list[RunRecord]] = defaultdict(list)
    for run in runs:
        grouped[run.dataset].append(run)
    return grouped


def _protocol_row(label: str, runs: Iterable[RunRecord], inits: int = 1) -> Cells:
    """The cells of a fidelity row: per dataset, the accuracy over the runs of the first ``inits``
    initialisations of every split ("—" where a dataset has fewer)."""
    cells = {"label": label}
    for dataset, group in _by_dataset(runs).items():
        chosen = [run for run in group if run.seed is not None and run.seed < inits]
        seeds = {run.seed for run in chosen}
        cells[DATASET_NAMES[dataset]] = _accuracy_cell(chosen, dataset) if len(seeds) == inits else "—"
    return cells


def fidelity_table(key_column: str, folders: dict[str, tuple[str, int]]) -> Callable[[Path], Rows]:
    """A fidelity table of Table 2: a row per (label → (folder under ``fidelity/``, initialisations per split))."""
    def build(results: Path) -> Rows:
        rows: Rows = {}
        for label, (folder, inits) in folders.items():
            cells = _protocol_row(label, read_runs(results / "fidelity" / folder / "runs.json"), inits)
            rows[label] = {key_column: cells.pop("label"), **cells}
        return rows
    return build


def fidelity_library_gat(results: Path) -> Rows:
    """The library-form GraphCON-GAT row of the fidelity GAT table: Table 2's measurement."""
    label = "library form, clean (the measurement in [Node classification](node_classification.md), not rerun here)"
    cells = {DATASET_NAMES[row["dataset"]]: _measured(row) for row in _rows(results / "table2.json")
             if row["model"] == "graphcon-gat"}
    return {label: {"GraphCON-GAT": label, **cells}}


GAT_FOLDERS = {"authors' form, clean": ("table2_gat_authors_clean", 1),
               "authors' form, official": ("table2_gat_authors_official", 1),
               "library form, official": ("table2_gat_library_official", 1)}


def fidelity_gat(results: Path) -> Rows:
    return {**fidelity_library_gat(results), **fidelity_table("GraphCON-GAT", GAT_FOLDERS)(results)}


def timing(results: Path) -> Rows:
    """Seconds of one run per (dataset, model) and their sum, from the timing runs."""
    rows: Rows = {}
    for dataset, runs in _by_dataset(read_runs(results / "fidelity" / "table1_timing" / "runs.json")).items():
        name = DATASET_NAMES[dataset]
        rows[name] = {"seconds per run": name, **{MODEL_NAMES[run.model]: f"{run.seconds:.0f}" for run in runs},
                      "all five": f"{sum(run.seconds for run in runs):.0f}"}
    return rows


GRAND_FOLDERS = {"table8_grand": "random search ({draws} draws)", "table8_grand_fixed": "authors' Cora settings"}


def grand(results: Path) -> Rows:
    """Table 8 with the authors' depth-study network: per protocol and budget, mean ± std by depth, and the
    official read-out's times per split (the second such row is named ``best time (per split)#2``)."""
    rows: Rows = defaultdict(dict)
    for number, (folder, budget) in enumerate(GRAND_FOLDERS.items()):
        for row in _rows(results / "fidelity" / folder / "results.json"):
            label = f"{row['protocol']}, {budget.format(draws=row['draws'])}"
            rows[label][f"N = {row['layers']}"] = plus_minus(row["mean"], row["std"])
            if row["protocol"] == "official":
                times = "best time (per split)" + (f"#{number + 1}" if number else "")
                rows[times][f"N = {row['layers']}"] = row["best_time"].replace("/", " / ")
    return {label: {"Cora test accuracy (%)": label.split("#")[0], **cells} for label, cells in rows.items()}


TABLES: Registry[Table] = Registry("results table")
"""Every regenerated table: name (its marker) → :class:`Table`. A new table is one build function and one
``TABLES.register`` line."""
TABLES.register("table1", Table("node_classification.md", "model", node_table("table1.json")))
TABLES.register("table2", Table("node_classification.md", "model", node_table("table2.json")))
TABLES.register("fig2", Table("node_classification.md", "model", fig2))
TABLES.register("table8", Table("depth.md", "model", depth_table(DEPTH_RECORDS)))
TABLES.register("table8-horizon", Table("depth.md", "model", depth_table(HORIZON_RECORDS)))
TABLES.register("heterophily", Table("heterophily.md", "set | model | splits × max epochs", heterophily))
TABLES.register("fidelity-table2-gcn", Table("fidelity.md", "GraphCON-GCN", fidelity_table("GraphCON-GCN", {
    "clean": ("table2_gcn_clean", 1), "official": ("table2_gcn_official", 1),
    "official, 3 initialisations per split (30 runs)": ("table2_gcn_official", 3)})))
TABLES.register("fidelity-table2-gat", Table("fidelity.md", "GraphCON-GAT", fidelity_gat))
TABLES.register("fidelity-table8", Table("fidelity.md", "Cora test accuracy (%)", grand))
TABLES.register("fidelity-timing", Table("fidelity.md", "seconds per run", timing))


def _split(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _render(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


@dataclasses.dataclass
class Merged:
    """A table after regeneration: its text, the cells that changed (row, column, page text, regenerated text) and
    the numeric cells no record gives (row, column, page text)."""

    text: str
    changed: list[tuple[str, str, str, str]]
    unbacked: list[tuple[str, str, str]]


def _row_key(header: Sequence[str], cells: Sequence[str], key_column: str, seen: dict[str, int]) -> str:
    key = " | ".join(cells[header.index(column)] for column in key_column.split(" | "))
    seen[key] = seen.get(key, 0) + 1
    return key if seen[key] == 1 else f"{key}#{seen[key]}"


def merge(text: str, rows: Rows, key_column: str) -> Merged:
    """The markdown table ``text`` with the cells of ``rows`` put in (see the module docstring)."""
    lines = text.strip("\n").split("\n")
    header = _split(lines[0])
    columns = header + sorted({c for cells in rows.values() for c in cells} - set(header))
    out = [lines[0] if columns == header else _render(columns),
           lines[1] if columns == header else "|" + "---|" * len(columns)]
    changed, unbacked, seen, keys = [], [], {}, set()
    for line in lines[2:]:
        cells = _split(line) + ["—"] * (len(columns) - len(header))
        key = _row_key(header, cells, key_column, seen)
        keys.add(key)
        given, touched = rows.get(key, {}), columns != header
        for column, old in zip(columns, list(cells)):
            new = given.get(column)
            if new is None:
                if column not in key_column.split(" | ") and re.search(r"\d", old):
                    unbacked.append((key, column, old))
                continue
            new += "*" if old.endswith("*") and not new.endswith("*") else ""  # a footnote mark is the page's
            if new != old:
                changed.append((key, column, old, new))
                cells[columns.index(column)] = new
                touched = True
        out.append(_render(cells) if touched else line)
    for key, given in rows.items():
        if key not in keys:
            cells = [given.get(column, "—") for column in columns]
            changed.append((key, "(new row)", "", _render(cells)))
            out.append(_render(cells))
    return Merged("\n".join(out) + "\n", changed, unbacked)


def _block(page: str, name: str) -> tuple[int, int]:
    """Where the table named ``name`` stands in ``page``: the span between its two markers."""
    start = page.find(marker(name))
    if start < 0:
        raise ValueError(f"table {name!r}: no {marker(name)} marker in its page")
    start = page.index("\n", start) + 1
    return start, page.index(END, start)


def regenerate(root: Path) -> dict[str, tuple[Path, Merged]]:
    """Every table of :data:`TABLES` regenerated from the records under ``root/docs/results``: name → (page,
    merged table)."""
    results = root / "docs" / "results"
    merged = {}
    for name, table in TABLES.items():
        page = results / table.page
        text = page.read_text()
        start, end = _block(text, name)
        merged[name] = (page, merge(text[start:end], table.build(results), table.key_column))
    return merged


def graphcon_runs(root: Path) -> list[RunRecord]:
    """Every GraphCON run recorded under ``root/docs/results`` (each key once)."""
    runs = {}
    for pattern in RUN_FILES:
        for path in sorted((root / "docs" / "results").glob(pattern)):
            runs.update({run.key: run for run in read_runs(path) if run.model.startswith("graphcon")})
    return list(runs.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", help="the project folder whose docs/ is read (default: here)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit with 1 when a committed table differs from its records")


def check(args: argparse.Namespace) -> None:
    if not (Path(args.root) / "docs" / "results").is_dir():
        raise ValueError(f"--root: {args.root} has no docs/results folder")


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    merged = regenerate(root)
    differing = [name for name, (_, table) in merged.items() if table.changed]
    for name, (_, table) in merged.items():
        for row, column, old, new in table.changed:
            print(f"{name}: {row} / {column}: {old!r} → {new!r}")
        print(f"{name}: {len(table.unbacked)} numeric cells kept from the page (no record gives them)")
    if not args.check:
        pages: dict[Path, str] = {}
        for name, (page, table) in merged.items():
            text = pages.get(page, page.read_text())
            start, end = _block(text, name)
            pages[page] = text[:start] + table.text + text[end:]
        for page, text in pages.items():
            if text != page.read_text():
                write_atomic(page, text)
    runs = graphcon_runs(root)
    judged = [run.under_trained for run in runs if run.under_trained is not None]
    print(f"{len(merged)} tables from records; under-trained GraphCON runs: {sum(judged)} of {len(judged)} "
          f"({100 * sum(judged) / max(len(judged), 1):.0f} %)")
    if args.check and differing:
        print(f"tables that differ from their records: {', '.join(differing)}")
        return 1
    return 0
