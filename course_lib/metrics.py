"""How a prediction is scored once thresholded: its Dice, and how closely its border follows the true one.

A network gives a probability per pixel; a pixel counts as lung where it exceeds a threshold (``THRESHOLD`` unless a
recipe says otherwise). Training, validation, evaluation and the prediction viewer all score through
:func:`thresholded_dice`. Dice counts pixels, and most of a lung's pixels are inside it, far from its border: a
prediction whose border is blurred or a few pixels off loses little Dice. The boundary F-score (Csurka et al., BMVC
2013) looks at the border pixels only: the share of predicted border pixels within ``tolerance`` pixels of the true
border (precision), the share of true border pixels within ``tolerance`` of the predicted one (recall), and their
harmonic mean. Both use max pooling, so it runs on tensors like the rest of training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.losses import dice

__all__ = ["THRESHOLD", "boundary", "boundary_f_score", "thresholded_dice"]

THRESHOLD = 0.5  # the probability above which a pixel counts as lung, unless a recipe or a caller says otherwise


def thresholded_dice(probabilities: torch.Tensor, truth: torch.Tensor, threshold: float = THRESHOLD) -> torch.Tensor:
    """Per-sample Dice (N,) of the mask ``probabilities > threshold`` against the labels ``truth`` (same shape):
    the score a prediction gets, where the soft Dice of the probabilities is what training minimises."""
    return dice((probabilities > threshold).float(), truth)


def _as_batch(masks: torch.Tensor, what: str) -> torch.Tensor:
    if masks.dim() == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.dim() != 3:
        raise ValueError(f"{what}: expected binary masks (N, H, W) or (N, 1, H, W), got shape {tuple(masks.shape)}")
    return (masks > 0.5).float()


def boundary(masks: torch.Tensor) -> torch.Tensor:
    """The border pixels of binary masks (N, H, W): inside the mask with a neighbour (of 8) outside it."""
    masks = _as_batch(masks, "boundary")
    eroded = -F.max_pool2d(-masks.unsqueeze(1), 3, stride=1, padding=1)[:, 0]
    return masks - eroded


def boundary_f_score(prediction: torch.Tensor, truth: torch.Tensor, tolerance: int = 1) -> torch.Tensor:
    """Per-image boundary F-score (N,) of binary masks, a border pixel counting as found within ``tolerance``
    pixels (a square neighbourhood). Two empty masks agree perfectly (1); one empty mask scores 0."""
    if prediction.shape != truth.shape:
        raise ValueError(f"boundary_f_score: prediction {tuple(prediction.shape)} and truth {tuple(truth.shape)} "
                         "must have the same shape")
    if int(tolerance) != tolerance or tolerance < 0:
        raise ValueError(f"boundary_f_score: tolerance must be a whole number of pixels >= 0, got {tolerance}")
    predicted, true = boundary(prediction), boundary(truth)

    def near(border: torch.Tensor) -> torch.Tensor:
        size = 2 * int(tolerance) + 1
        return F.max_pool2d(border.unsqueeze(1), size, stride=1, padding=int(tolerance))[:, 0]

    predicted_count, true_count = predicted.sum(dim=(1, 2)), true.sum(dim=(1, 2))
    precision = (predicted * near(true)).sum(dim=(1, 2)) / predicted_count.clamp(min=1)
    recall = (true * near(predicted)).sum(dim=(1, 2)) / true_count.clamp(min=1)
    score = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    both_empty = (predicted_count == 0) & (true_count == 0)
    return torch.where(both_empty, torch.ones_like(score), score)
