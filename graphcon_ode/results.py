"""Writing results: atomic files, markdown tables and the results.json + results.md pair of a run.

Used by the library's own verbs (``verify``) and by the experiments (through :mod:`experiments.harness`).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` through a temporary file and a rename, so readers never see half a
    file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png(path: Path, figure: Any) -> None:
    """Save a matplotlib ``figure`` as a PNG at ``path``, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def markdown_table(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """A markdown table of ``columns`` over ``rows`` (floats to 4 significant digits, None and NaN as "—")."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_results(out_dir: str | Path, rows: Sequence[Row], columns: Sequence[str], title: str,
                  notes: str = "") -> None:
    """``DIR/results.json`` (all keys of every row) and ``DIR/results.md`` (title, notes, table of ``columns``)."""
    out = Path(out_dir)
    write_atomic(out / "results.json", json.dumps(list(rows), indent=1))
    body = f"# {title}\n\n" + (f"{notes.strip()}\n\n" if notes else "") + markdown_table(rows, columns)
    write_atomic(out / "results.md", body)
