"""The course's shipped CFCM34: small trained weights, so that a memory can be looked at without training first.

``tools/make_weights.py`` (``make weights``) makes them: the ``cpu`` recipe, seed 1, trained on the real Montgomery
set through the command line's road (``train_run``), its ``best.pt`` stored in half precision (6 MB instead of 12).
The file records the command, the data and the test Dice it was made with, which ``tests/test_pretrained.py``
re-checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_lib.train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, load_model, save_checkpoint

__all__ = ["PRETRAINED", "PRETRAINED_NAME", "export_pretrained", "load_pretrained", "pretrained_path"]

PRETRAINED_NAME = "pretrained"  # what `python -m course_lib evaluate --checkpoint pretrained` understands
PRETRAINED = Path(__file__).resolve().parent / "weights" / "cfcm34-cpu.pt"


def pretrained_path() -> Path:
    """The shipped weights' file; a clear error when a checkout or an install lacks it."""
    if not PRETRAINED.is_file():
        raise FileNotFoundError(f"the shipped weights {PRETRAINED} are missing; run `make weights` (it trains them on "
                                "the real Montgomery set, about ten CPU minutes) or reinstall the course")
    return PRETRAINED


def load_pretrained(device: str | torch.device | None = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """The shipped CFCM34 in evaluation mode, and its checkpoint (``config``, ``provenance``: how it was made)."""
    model, state = load_model(pretrained_path(), device=device)
    return model.eval(), state


def export_pretrained(best: str | Path, provenance: dict[str, Any], path: str | Path = PRETRAINED) -> Path:
    """Store a run's ``best.pt`` as the shipped weights: floating tensors in half precision, provenance added."""
    state = load_checkpoint(best)
    weights = {name: tensor.half() if tensor.is_floating_point() else tensor
               for name, tensor in state["model"].items()}
    return save_checkpoint({"format": CHECKPOINT_FORMAT, "epoch": state["epoch"], "val_dice": state["val_dice"],
                            "model": weights, "config": state["config"], "model_name": state["model_name"],
                            "provenance": provenance}, path)
