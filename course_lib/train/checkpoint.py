"""Checkpoints that survive a crash at any moment and never run code when loaded.

Each file is a normal ``torch.save`` archive followed by a 40-byte footer (8-byte tag + SHA-256 of the archive),
so a truncated or damaged file is recognised before anything is unpickled; loading goes through
``torch.load(weights_only=True)``, which only rebuilds tensors and plain Python types. Writes are atomic
(:func:`course_lib.atomic.atomic_writer`). A run folder keeps ``last.pt`` and the one before it, ``previous.pt``, plus ``best.pt``.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from course_lib.atomic import atomic_writer

FOOTER_TAG = b"CFCMCKP1"
FOOTER_SIZE = len(FOOTER_TAG) + 32
LAST = "last.pt"
PREVIOUS = "previous.pt"
BEST = "best.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used (missing, truncated, damaged or not one of ours); the message names the file."""


class CorruptCheckpointWarning(UserWarning):
    """The newest checkpoint was damaged and an older one is used instead."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (tensors and plain types only) to ``path`` atomically, with a checksum footer."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    footer = FOOTER_TAG + hashlib.sha256(payload).digest()
    with atomic_writer(path) as handle:
        handle.write(payload)
        handle.write(footer)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, checking its footer; raises :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path, or train first to create it")
    data = path.read_bytes()
    if len(data) < FOOTER_SIZE or data[-FOOTER_SIZE:-32] != FOOTER_TAG:
        raise CheckpointError(
            f"checkpoint {path} is truncated or was not written by course_lib.train (no checksum footer); "
            "delete it, or resume from an older checkpoint"
        )
    payload, digest = data[:-FOOTER_SIZE], data[-32:]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"checkpoint {path} is damaged (checksum mismatch); delete it, or resume from an older one")
    try:
        state = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as error:  # an archive with a valid checksum but unsafe or unreadable content
        raise CheckpointError(f"checkpoint {path} could not be loaded safely: {error}") from error
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, expected a dict of training state")
    return state


def rotate_and_save(state: dict[str, Any], run_dir: str | Path) -> Path:
    """Save ``state`` as ``last.pt``, keeping the former ``last.pt`` as ``previous.pt``.

    At every instant at least one complete checkpoint exists: the old ``last.pt`` is renamed only after the new
    one is fully on disk under a temporary name.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    staged = save_checkpoint(state, run_dir / f".{LAST}.staged")
    if (run_dir / LAST).exists():
        os.replace(run_dir / LAST, run_dir / PREVIOUS)
    os.replace(staged, run_dir / LAST)
    return run_dir / LAST


def load_latest(run_dir: str | Path, map_location: str | torch.device = "cpu") -> tuple[dict[str, Any], Path] | None:
    """The newest usable checkpoint in ``run_dir`` and its path, or None when the folder holds none.

    A damaged ``last.pt`` is reported with a :class:`CorruptCheckpointWarning` naming it, and ``previous.pt``
    is used. If every candidate is damaged a :class:`CheckpointError` lists them.
    """
    run_dir = Path(run_dir)
    # a staged file is complete (it was renamed into place) and newer than last.pt
    candidates = [run_dir / f".{LAST}.staged", run_dir / LAST, run_dir / PREVIOUS]
    problems: list[str] = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            state = load_checkpoint(candidate, map_location=map_location)
        except CheckpointError as error:
            problems.append(str(error))
            warnings.warn(f"{error}; trying an older checkpoint", CorruptCheckpointWarning, stacklevel=2)
            continue
        return state, candidate
    if problems:
        raise CheckpointError(
            f"no usable checkpoint in {run_dir}: " + "; ".join(problems)
            + ". Delete the folder (or choose another --out) and train without --resume."
        )
    return None
