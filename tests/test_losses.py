"""The lab's Dice: per sample, over all non-batch axes, with EPS = 0.001."""

import pytest
import torch

from course_lib.losses import EPS, dice, dice_loss, dice_score


def test_dice_formula_per_sample():
    torch.manual_seed(0)
    p, t = torch.rand(3, 1, 5, 4), (torch.rand(3, 1, 5, 4) > 0.5).float()
    expected = torch.stack([2 * (p[k] * t[k]).sum() / ((p[k] ** 2 + t[k] ** 2).sum() + 0.001) for k in range(3)])
    torch.testing.assert_close(dice(p, t), expected)
    torch.testing.assert_close(dice_score(p, t), expected.mean())
    torch.testing.assert_close(dice_loss(p, t), (1 - expected).mean())
    assert EPS == 0.001


def test_binary_cases():
    mask = torch.zeros(2, 1, 4, 4)
    mask[:, :, :2] = 1
    assert dice(mask, mask) == pytest.approx([16 / 16.001] * 2)
    assert dice(mask, 1 - mask).tolist() == [0.0, 0.0]
    assert dice(torch.zeros(1, 4, 4), torch.zeros(1, 4, 4)).item() == 0.0  # empty vs empty: 0, no NaN


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same shape"):
        dice(torch.zeros(2, 1, 4, 4), torch.zeros(2, 4, 4))
