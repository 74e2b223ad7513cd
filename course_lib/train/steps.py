"""One training step and one validation pass: the two loops of the lab, short enough to read next to the exercise.

Notebook 4 has students write both; ``fit`` runs exactly these. A training step is: clear the gradients, run the
network, turn its logits into probabilities, take the Dice loss, back-propagate, update. Validation runs the
network in evaluation mode without gradients and scores each image's thresholded prediction with the Dice
coefficient. The extras (mixed precision, gradient scaling, clipping) are arguments that default to off, so the
plain version is what a reader sees first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from course_lib.losses import dice, dice_loss
from course_lib.metrics import THRESHOLD, thresholded_dice
from course_lib.train.device import Precision

__all__ = ["FP32", "Loss", "train_step", "Validation", "validate"]

FP32 = Precision(torch.device("cpu"), None, False)  # plain float32: what a CPU (and the exercise) uses
# What training minimises: (probabilities, labels), both (N, 1, H, W), -> a 0-d tensor. The course's is dice_loss.
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor, *,
               precision: Precision = FP32, scaler: torch.amp.GradScaler | None = None,
               max_grad_norm: float | None = None, loss: Loss = dice_loss) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimisation step on a batch (N, 1, H, W); returns the loss and the probabilities, both detached.

    ``precision`` runs the forward pass under autocast, ``scaler`` scales an fp16 loss, and ``max_grad_norm``
    clips the gradients' total norm before the update (all off by default). ``loss`` is what is minimised (notebook 4
    trains with a student's own Dice loss).
    """
    optimizer.zero_grad(set_to_none=True)
    with precision.autocast():
        logits = model(images)
    probabilities = torch.sigmoid(logits.float())
    value = loss(probabilities, labels)
    if scaler is not None and scaler.is_enabled():
        scaler.scale(value).backward()
        scaler.unscale_(optimizer)
        _clip(model, max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
    else:
        value.backward()
        _clip(model, max_grad_norm)
        optimizer.step()
    return value.detach(), probabilities.detach()


def _clip(model: nn.Module, max_grad_norm: float | None) -> None:
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)


@dataclass(frozen=True)
class Validation:
    """What a validation pass found: per-image Dice, the mean soft loss, optionally the probability maps, and
    ``constant`` ("lung" or "background") when the network predicted that one class for every pixel."""

    dice: torch.Tensor  # (N,) thresholded Dice per image, on the CPU
    loss: float
    predictions: torch.Tensor | None = None  # (N, H, W) probabilities when asked for
    constant: str | None = None

    @property
    def mean_dice(self) -> float:
        return float(self.dice.mean())


@torch.no_grad()
def validate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int = 16,
             threshold: float = THRESHOLD, precision: Precision = FP32, keep_predictions: bool = False) -> Validation:
    """Score ``model`` on (N, 1, H, W) ``images`` against ``labels`` in evaluation mode, ``batch_size`` at a time."""
    was_training = model.training
    model.eval()
    scores, losses, maps, fractions = [], [], [], []
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size].to(precision.device, non_blocking=True)
        y = labels[start:start + batch_size].to(precision.device, non_blocking=True)
        if precision.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with precision.autocast():
            probabilities = torch.sigmoid(model(x).float())
        losses.append(1.0 - dice(probabilities, y))
        scores.append(thresholded_dice(probabilities, y, threshold))
        fractions.append((probabilities > threshold).float().mean(dim=(1, 2, 3)))
        if keep_predictions:
            maps.append(probabilities[:, 0].cpu())
    model.train(was_training)
    fraction = torch.cat(fractions)
    constant = "lung" if bool((fraction >= 0.999).all()) else "background" if bool((fraction <= 0.001).all()) else None
    return Validation(dice=torch.cat(scores).float().cpu(), loss=float(torch.cat(losses).mean()),
                      predictions=torch.cat(maps) if keep_predictions else None, constant=constant)
