"""Checkpoints of a training run: written atomically, read back with one clear error where they cannot be.

A checkpoint is ``torch.save`` of a dict; it is written to a temporary file beside its path and renamed over it
(:func:`graphcon_ode.results.write_atomic`), so a run killed while saving leaves the previous checkpoint whole.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from graphcon_ode.results import write_atomic


class CheckpointError(ValueError):
    """A checkpoint file that exists but cannot be read (empty, truncated, not a checkpoint, a folder)."""


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` of ``state`` to ``path``, atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path, map_location: torch.device | str | None = None) -> dict[str, Any]:
    """The dict saved at ``path``.

    Raises:
        CheckpointError: naming ``path``, where it is a folder, empty, or not a readable checkpoint dict.
    """
    if path.is_dir():
        raise CheckpointError(f"checkpoint: {path} is a folder, not a checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise CheckpointError(f"checkpoint: {path} cannot be read ({reason[:200]})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint: {path} holds a {type(state).__name__}, not a checkpoint dict")
    return state
