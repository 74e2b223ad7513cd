"""What one training run carries from epoch to epoch: the :class:`Run` that ``loop.fit`` advances and
``checkpoint`` saves and restores, in a module of its own so that neither of the two imports the other."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from course_lib.train.configs import TrainConfig
from course_lib.train.device import Precision
from course_lib.train.distributed import World
from course_lib.train.results import History
from course_lib.train.steps import Loss

__all__ = ["Run"]


@dataclass
class Run:
    """Everything one training run carries from epoch to epoch."""

    model: nn.Module
    network: nn.Module  # what the optimiser trains through: the model itself, or DDP around it
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    precision: Precision
    config: TrainConfig
    train: tuple[torch.Tensor, torch.Tensor]  # images and labels, (N, 1, H, W)
    val: tuple[torch.Tensor, torch.Tensor]
    run_dir: Path | None
    world: World
    history: History
    loss: Loss  # what training minimises: (probabilities, labels) -> 0-d tensor
    model_name: str | None  # the course network's name in MODELS, or None for another network: what checkpoints record
    best_weights: dict[str, torch.Tensor] | None = None

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.train[0].shape[0] / self.config.batch_size)

    def keep_if_best(self, val_dice: float) -> bool:
        """Copy the weights when ``val_dice`` beats every earlier validation; say whether it did."""
        earlier = self.history.val_dice[:-1]
        best = max((v for v in earlier if not math.isnan(v)), default=float("nan"))
        if math.isnan(val_dice) or not (math.isnan(best) or val_dice > best):
            return False
        self.best_weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        return True
