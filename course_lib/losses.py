"""The lab's Dice coefficient as score and loss: 2 sum(p t) / (sum(p^2 + t^2) + EPS), per sample."""

from __future__ import annotations

import torch

__all__ = ["EPS", "dice", "dice_score", "dice_loss"]

EPS = 0.001


def dice(prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per-sample Dice (N,) of probabilities ``prediction`` and labels ``truth`` of the same shape (N, ...),
    summed over every non-batch axis. Equals the usual Dice when both are binary (up to EPS)."""
    if prediction.shape != truth.shape:
        raise ValueError(f"dice: prediction {tuple(prediction.shape)} and truth {tuple(truth.shape)} must have the "
                         "same shape (N, ...); e.g. add a channel axis to the labels with labels.unsqueeze(1)")
    if prediction.dim() < 2:
        raise ValueError(f"dice: expected a batch (N, ...) with at least 2 axes, got shape {tuple(prediction.shape)}")
    axes = tuple(range(1, prediction.dim()))
    overlap = (prediction * truth).sum(dim=axes)
    return 2.0 * overlap / ((prediction**2 + truth**2).sum(dim=axes) + EPS)


def dice_score(prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean Dice over the batch (a 0-d tensor): higher is better."""
    return dice(prediction, truth).mean()


def dice_loss(prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - Dice over the batch (a 0-d tensor): what training minimises."""
    return (1.0 - dice(prediction, truth)).mean()
