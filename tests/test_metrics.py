"""course_lib.metrics: the boundary F-score that notebook 2 puts next to Dice."""

from __future__ import annotations

import pytest
import torch

from course_lib.metrics import boundary, boundary_f_score


def square(size: int = 16, top: int = 4, side: int = 8) -> torch.Tensor:
    mask = torch.zeros(1, size, size)
    mask[0, top:top + side, top:top + side] = 1
    return mask


def test_the_boundary_is_the_inner_ring_of_a_mask():
    ring = boundary(square())
    assert ring.sum() == 4 * 8 - 4  # the 8x8 square's outermost pixels
    assert ring[0, 4, 4] == 1 and ring[0, 7, 7] == 0 and ring[0, 3, 3] == 0


def test_identical_masks_score_one_and_a_one_pixel_shift_is_tolerated_only_within_tolerance():
    truth = square()
    shifted = torch.roll(truth, shifts=1, dims=2)
    assert boundary_f_score(truth, truth).item() == 1.0
    assert boundary_f_score(shifted, truth, tolerance=1).item() == 1.0
    strict = boundary_f_score(shifted, truth, tolerance=0).item()
    assert 0.2 < strict < 0.8, strict  # the top and bottom rows still overlap, the sides do not


def test_a_blurred_border_costs_more_boundary_f_than_dice():
    truth = square(size=32, top=4, side=24)
    ragged = truth.clone()
    ragged[0, 4:28:2, 4] = 0  # every other pixel of one side missing: a notched border
    ragged[0, 4:28:2, 27] = 0
    dice = 2 * (ragged * truth).sum() / (ragged.sum() + truth.sum())
    assert dice > 0.97 and boundary_f_score(ragged, truth, tolerance=0).item() < 0.9


def test_empty_masks_and_batches():
    empty = torch.zeros(2, 1, 8, 8)
    full = torch.zeros(2, 1, 8, 8)
    full[:, :, 2:6, 2:6] = 1
    assert boundary_f_score(empty, empty).tolist() == [1.0, 1.0]
    assert boundary_f_score(empty, full).tolist() == [0.0, 0.0]
    assert boundary_f_score(full, full).shape == (2,)


@pytest.mark.parametrize("prediction, truth, tolerance, message", [
    (torch.zeros(1, 8, 8), torch.zeros(1, 8, 9), 1, "same shape"),
    (torch.zeros(8, 8), torch.zeros(8, 8), 1, "expected binary masks"),
    (torch.zeros(1, 8, 8), torch.zeros(1, 8, 8), 1.5, "whole number"),
    (torch.zeros(1, 8, 8), torch.zeros(1, 8, 8), -1, "whole number"),
])
def test_bad_input_is_named(prediction, truth, tolerance, message):
    with pytest.raises(ValueError, match=message):
        boundary_f_score(prediction, truth, tolerance=tolerance)


def test_thresholded_dice_scores_the_mask_above_the_threshold():
    from course_lib.losses import dice
    from course_lib.metrics import THRESHOLD, thresholded_dice

    truth = square().unsqueeze(1)
    probabilities = 0.3 + 0.4 * truth  # 0.7 on the lung, 0.3 elsewhere
    assert thresholded_dice(probabilities, truth).item() == pytest.approx(dice(truth, truth).item())
    assert thresholded_dice(probabilities, truth, threshold=0.8).item() == 0.0  # no pixel above 0.8
    assert thresholded_dice(probabilities, truth, threshold=0.2).item() == pytest.approx(
        dice(torch.ones_like(truth), truth).item())
    assert THRESHOLD == 0.5
