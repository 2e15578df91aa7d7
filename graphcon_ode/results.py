"""Writing results: atomic files, markdown tables and the results.json + results.md pair of a run.

Used by the library's own verbs (``verify``) and by the experiments (through :mod:`experiments.harness`).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def write_through(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it to ``path``, so readers never see half a
    file (the temporary file is removed if ``write`` fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` atomically (:func:`write_through`)."""
    write_through(path, lambda tmp: tmp.write_bytes(text) if isinstance(text, bytes) else tmp.write_text(text))


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
