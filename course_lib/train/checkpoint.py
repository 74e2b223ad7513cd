"""Checkpoints: what they hold, how they are written and read, and how a run resumes from them.

Each file is a normal ``torch.save`` archive followed by a 40-byte footer (8-byte tag + SHA-256 of the archive),
so a truncated or damaged file is recognised before anything is unpickled; loading goes through
``torch.load(weights_only=True)``, which only rebuilds tensors and plain Python types. Writes are atomic
(:func:`course_lib.atomic.atomic_writer`). A run folder keeps ``last.pt`` and the one before it, ``previous.pt``,
plus ``best.pt``. ``last.pt`` holds everything needed to continue exactly (weights, optimiser, grad scaler, random
state, history, recipe); ``best.pt`` the best validation epoch's weights. Both record the recipe and, for a course
network, its name in ``course_lib.nn.MODELS``, from which :func:`load_model` rebuilds the network without being told
which it was (its width and normalisation are the recipe's: ``TrainConfig.model_spec``). Files of format 1 stored the
whole spec instead (``model_spec``); they still load.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_lib.atomic import atomic_writer
from course_lib.nn.registry import ModelSpec
from course_lib.train.configs import TrainConfig
from course_lib.train.results import History
from course_lib.train.state import Run

CHECKPOINT_FORMAT = 2  # 2: the model's name beside its recipe (model_name); 1: its whole spec (model_spec)
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


# ----------------------------------------------------------------------------------------------
# what a run's checkpoints hold, and resuming from them
# ----------------------------------------------------------------------------------------------
def training_state(run: Run, epoch: int) -> dict[str, Any]:
    """Everything needed to continue ``run`` exactly after ``epoch``: tensors and plain types only."""
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    scaler = run.scaler
    return {
        "format": CHECKPOINT_FORMAT, "epoch": epoch, "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else {},
        "history": run.history.to_dict(), "config": run.config.to_dict(), "model_name": run.model_name, "rng": rng,
        "precision": run.history.precision,
    }


def save_epoch(run: Run, epoch: int, improved: bool) -> None:
    """After ``epoch``: ``best.pt`` when validation improved, then ``last.pt`` (the former one kept as previous)."""
    if improved:
        save_checkpoint({"format": CHECKPOINT_FORMAT, "epoch": epoch, "val_dice": run.history.best_val_dice,
                         "model": run.best_weights, "config": run.config.to_dict(), "model_name": run.model_name,
                         "precision": run.history.precision},
                        run.run_dir / BEST)
    rotate_and_save(training_state(run, epoch), run.run_dir)


def resume(run: Run, verbose: bool) -> int:
    """Load the newest good checkpoint of ``run.run_dir`` into ``run``; return the epoch to continue with.

    A changed recipe is refused (a resumed run must be the run that was interrupted).
    """
    found = load_latest(run.run_dir, map_location=run.precision.device)
    if found is None:
        if verbose:
            print(f"No checkpoint in {run.run_dir}: starting from scratch.")
        return 1
    state, path = found
    saved = {**TrainConfig().to_dict(), **state.get("config", {})}  # a field newer than the file: its default
    # the name labels a recipe and the thread count is the machine's business: neither changes what the run trains
    differences = sorted(k for k, v in run.config.to_dict().items()
                         if saved.get(k) != v and k not in ("name", "threads"))
    if differences:
        detail = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {getattr(run.config, k)!r}" for k in differences)
        raise ValueError(f"cannot resume from {path}: the configuration changed ({detail}); "
                         "use the same settings, or a new --out folder to start afresh")
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scaler is not None and state.get("scaler"):
        run.scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["rng"]["torch"].cpu())
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])
    run.history = History.from_dict(state["history"])
    run.history.precision = state.get("precision")
    if verbose:
        print(f"Resuming from {path} after epoch {state['epoch']} of {run.config.epochs}.")
    return int(state["epoch"]) + 1


def restore_best(run: Run) -> None:
    """Put the best validation epoch's weights back into ``run.model`` (from memory, or from ``best.pt``)."""
    weights = run.best_weights
    if weights is None and run.run_dir is not None and (run.run_dir / BEST).exists():
        weights = load_checkpoint(run.run_dir / BEST, map_location=run.precision.device)["model"]
    if weights is not None:
        run.model.load_state_dict(weights)


def recorded_spec(state: dict[str, Any], checkpoint: str | Path) -> ModelSpec:
    """The spec of the network the checkpoint ``state`` holds: its model name with its recipe's width and
    normalisation (format 2), or the spec format 1 stored whole."""
    if state.get("model_spec"):
        return ModelSpec.from_dict(state["model_spec"])
    if not state.get("model_name"):
        raise ValueError(f"checkpoint {checkpoint} does not record which model it holds (no model_name); it was "
                         "written for a model that is not one of course_lib.nn.MODELS, so rebuild the model yourself "
                         "and load state['model'] into it")
    if not state.get("config"):
        raise ValueError(f"checkpoint {checkpoint} does not record the recipe it was trained with (no config), which "
                         "gives the network's width and normalisation and the image size; it was edited or not "
                         "written by course_lib.train: retrain, or use another file")
    return TrainConfig.from_dict(state["config"]).model_spec(state["model_name"])


def load_model(checkpoint: str | Path, device: str | torch.device | None = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model a checkpoint was trained as (:func:`recorded_spec`) and load its weights."""
    state = load_checkpoint(checkpoint, map_location="cpu")
    spec = recorded_spec(state, checkpoint)
    model = spec.build()
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:  # names or shapes that do not fit the network the file says it holds
        detail = str(error).strip().splitlines()[-1].strip()
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise CheckpointError(f"checkpoint {checkpoint} says it holds {spec.name} (base {spec.base}, norm {spec.norm}) "
                              f"but its weights do not fit that network ({detail}); it was edited or written by "
                              "another version of the course: retrain, or use another file") from None
    model.to(device if device is not None else "cpu")
    return model, state
