"""Where raw dataset files live and where their processed forms are kept: the data root, the cache root, and the
checks run on raw files before anything parses them.

The data root (``--data-root`` or ``$GRAPHCON_DATA``) is only read. Raw files are linked into a cache root of the
library's own (``$GRAPHCON_CACHE``, else ``~/.cache/graphcon-ode``; one subfolder per data root), where PyG writes
its ``processed/`` files. Every raw file is checked before a loader is called, so a missing file raises
:class:`MissingDatasetError` naming the files and the folder to put them in, and no download is ever attempted; a
file that is present but broken raises :class:`DatasetParseError` naming it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch_geometric.data import Data


class MissingDatasetError(FileNotFoundError):
    """Raw files of a dataset are not under the data root."""


class DatasetParseError(ValueError):
    """Raw files of a dataset are present but do not parse into a consistent graph; the message names the file."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset's raw files live under the data root and how a loader reads them from a root holding them.

    Attributes:
        folder: the dataset's folder under the root; its raw files are in ``folder/raw``.
        raw_files: the names of the raw files.
        loader: what reads them, as the missing-file message names it ("PyG's Planetoid(root, 'Cora')").
        load: the loader, called with a root holding ``folder/raw``.
    """

    folder: str
    raw_files: tuple[str, ...]
    loader: str
    load: Callable[[str], Data]


def resolve_data_root(data_root: str | Path | None = None) -> Path:
    """The data root: ``data_root`` if given, else ``$GRAPHCON_DATA``."""
    if data_root is None:
        data_root = os.environ.get("GRAPHCON_DATA")
    if not data_root:
        raise ValueError("data_root: no data root given; pass --data-root DIR or set GRAPHCON_DATA=DIR")
    return Path(data_root).expanduser()


def cache_root(data_root: Path) -> Path:
    """The library's own cache for ``data_root``: ``$GRAPHCON_CACHE`` (else ``~/.cache/graphcon-ode``)/<root id>."""
    base = Path(os.environ.get("GRAPHCON_CACHE") or Path.home() / ".cache" / "graphcon-ode").expanduser()
    root_id = hashlib.sha1(str(data_root.resolve()).encode()).hexdigest()[:12]
    return base / root_id


def require_raw_files(name: str, raw: Path, files: Sequence[str], what: str) -> None:
    """:class:`MissingDatasetError` naming the ``files`` absent from the folder ``raw`` and what they are."""
    missing = [file for file in files if not (raw / file).is_file()]
    if missing:
        raise MissingDatasetError(
            f"{name}: {len(missing)} raw file(s) missing: {', '.join(missing)}. Put them in {raw} "
            f"({what}; nothing is downloaded)")


def check_split_sizes(name: str, total: int, sizes: Sequence[int]) -> None:
    """A ``ValueError`` naming ``name`` when splits of ``sizes`` items need more than the raw file's ``total``."""
    if sum(sizes) > total:
        raise ValueError(f"{name}: splits of {list(sizes)} need {sum(sizes)} items, the raw file has {total}")


def link_raw_files(source: Path, target: Path, files: Sequence[str]) -> None:
    """Symbolic links ``target/file`` → ``source/file``, so a loader that writes beside its raw files writes into
    the cache and never into the read-only data root."""
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        link = target / file
        if link.exists():
            continue
        link.unlink(missing_ok=True)  # a dangling link left by a moved data root
        try:
            link.symlink_to((source / file).resolve())
        except FileExistsError:  # another process linked it first
            pass


def _hash_file(digest, path: Path) -> None:
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def file_digest(path: Path) -> str:
    """The SHA-1 of the bytes of ``path``."""
    digest = hashlib.sha1()
    _hash_file(digest, path)
    return digest.hexdigest()


def content_key(folder: Path, files: Sequence[str]) -> str:
    """A hash of the names and bytes of ``files`` in ``folder``: the processed cache is keyed by it, so a changed or
    restored raw file is processed afresh instead of meeting a stale cache."""
    digest = hashlib.sha1()
    for file in files:
        digest.update(file.encode() + b"\0")
        _hash_file(digest, folder / file)
    return digest.hexdigest()[:16]


def file_being_read(error: BaseException, raw: Path, files: Sequence[str]) -> str | None:
    """The raw file that the innermost frame of ``error``'s traceback was reading, when one names it."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        for value in traceback.tb_frame.f_locals.values():
            if isinstance(value, (str, os.PathLike)):
                text = os.fspath(value)
                for file in files:
                    if text.endswith(file) or text == file.split(".")[-1]:
                        found = file
        traceback = traceback.tb_next
    return found or next((file for file in files if file in str(error)), None)


def check_consistent(name: str, data: Data, raw: Path, files: Sequence[str]) -> None:
    """:class:`DatasetParseError` unless edges, labels and masks all refer to the graph's own nodes (a truncated
    raw file parses into fewer nodes than the edges mention)."""
    n = data.num_nodes
    problems = []
    if data.edge_index.numel() and int(data.edge_index.max()) >= n:
        problems.append(f"edges refer to node {int(data.edge_index.max())} of {n} nodes")
    for key in ("y", "train_mask", "val_mask", "test_mask"):
        value = getattr(data, key, None)
        if value is not None and value.shape[0] != n:
            problems.append(f"{key} has {value.shape[0]} rows for {n} nodes")
    if problems:
        sizes = ", ".join(f"{file} ({(raw / file).stat().st_size} bytes)" for file in files)
        raise DatasetParseError(f"{name}: the raw files in {raw} do not make one graph ({'; '.join(problems)}); a "
                                f"file is truncated or corrupt. Files: {sizes}")
