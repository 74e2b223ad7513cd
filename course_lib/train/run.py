"""The one road from a recipe to a trained and tested model: recipe, data split, model, run folder, fit, test.

``python -m course_lib train``, notebook 4 and every benchmark that trains a course model call
:func:`train_run`, so a number a benchmark measures is a number a user gets by typing the command. With a run
folder it ends by writing ``history.json`` there: what a person or a script reads after the run, without torch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from course_lib.atomic import atomic_writer
from course_lib.data import prepare_split, resolve_dataset
from course_lib.losses import dice_loss
from course_lib.train.checkpoint import BEST
from course_lib.train.configs import TrainConfig, get_config
from course_lib.train.distributed import world
from course_lib.train.loop import EpochCallback, evaluate, fit
from course_lib.train.results import Evaluation, History
from course_lib.train.steps import Loss

__all__ = ["HISTORY", "RunResult", "train_run"]

HISTORY = "history.json"  # the run folder's record: the summary, every epoch's numbers, the recipe


@dataclass
class RunResult:
    """A finished run: the model (best validation weights), its curves, its test scores and where things are."""

    model: nn.Module
    config: TrainConfig
    history: History
    test: Evaluation
    data: Path
    run_dir: Path | None
    seconds: float
    name: str = "model"  # the model's name in course_lib.nn.MODELS, or its class for a peer network

    def summary(self) -> dict:
        """Plain types for the command line's ``--json`` line and the run folder's ``history.json``."""
        return {
            "model": self.name, "config": self.config.name, "data": str(self.data), "epochs": len(self.history),
            "best_epoch": self.history.best_epoch, "val_dice": self.history.best_val_dice,
            "final_val_dice": self.history.val_dice[-1] if len(self.history) else float("nan"),
            "test_dice": self.test.mean, "test_images": len(self.test.dice), "test_sd_dice": self.test.std,
            "precision": self.history.precision, "train_seconds": round(self.history.total_seconds, 3),
            "seconds": round(self.seconds, 3),
            "checkpoint": str(self.run_dir / BEST) if self.run_dir is not None else None,
            "history": self.history.to_dict(),
        }

    def report(self) -> str:
        """A few lines a person reads: what was trained, its best epoch, validation and test Dice, time, files."""
        history, test = self.history, self.test
        best = f"epoch {history.best_epoch}" if history.best_epoch is not None else "no validated epoch"
        lines = [f"Trained {self.name} (recipe {self.config.name}, {self.config.size}x{self.config.size}, precision "
                 f"{history.precision}) on {self.data}: {len(history)} epochs in {_duration(self.seconds)}.",
                 f"Best {best}: validation Dice {history.best_val_dice:.4f} (last epoch "
                 f"{history.val_dice[-1] if len(history) else float('nan'):.4f}).",
                 f"Test: Dice {test.mean:.4f} ± {test.std:.4f} (mean ± sd over {len(test.dice)} images)."]
        if self.run_dir is not None:
            lines.append(f"Checkpoint: {self.run_dir / BEST}; full history: {self.run_dir / HISTORY}")
        return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def train_run(model: str | nn.Module, config: str | TrainConfig, *, data: str | Path | None = None,
              split: Mapping[str, Sequence[str]] | None = None, out_dir: str | Path | None = None,
              resume: bool = False, device: str | torch.device | None = None, progress: bool = True,
              callbacks: Sequence[EpochCallback] = (), loss: Loss = dice_loss) -> RunResult:
    """Train ``model`` with the recipe ``config`` and score it on the test part; see the module docstring.

    ``model``: a name in ``course_lib.nn.MODELS`` (built at the recipe's width, seeded by the recipe) or a module
    (a peer network in a benchmark). ``data``: a dataset folder or a registered source's name (None: the
    course's default). ``split``: the case names per part (None: the folder's own, ``data.split_for``). The rest
    goes to ``fit``; like fit's, the parameters are the knobs a user turns, kept visible rather than grouped.
    """
    started = time.perf_counter()
    config = get_config(config)
    folder = resolve_dataset(data)
    show = progress and world().is_main
    splits = prepare_split(folder, size=config.size, split=split, progress=show)
    name = model
    if isinstance(model, str):
        torch.manual_seed(config.seed)
        model = config.model_spec(model).build()
    history = fit(model, splits["train"], splits["val"], config=config, out_dir=out_dir, resume=resume,
                  device=device, progress=progress, callbacks=callbacks, loss=loss)
    test_part = splits["test"] if config.limit_images is None else {
        key: value[:config.limit_images] for key, value in splits["test"].items()}
    test = evaluate(model, test_part, batch_size=config.eval_batch_size, threshold=config.threshold,
                    precision=config.precision)
    result = RunResult(model=model, config=config, history=history, test=test, data=folder,
                       run_dir=Path(out_dir) if out_dir is not None else None, seconds=time.perf_counter() - started,
                       name=name if isinstance(name, str) else type(model).__name__)
    if result.run_dir is not None and world().is_main:
        with atomic_writer(result.run_dir / HISTORY) as handle:
            handle.write(json.dumps({**result.summary(), "recipe": config.to_dict()}, indent=1).encode("utf-8"))
    return result
