"""Notebook 4's checkers: right answers pass quietly, the usual mistakes fail with a message that helps."""

from __future__ import annotations

import pytest
import torch

from course_lib.grading.cfcm import check_cfcm_decoder, check_dice, check_dice_score_and_loss
from course_lib.losses import dice as library_dice
from conftest import ok_lines

pytestmark = pytest.mark.usefixtures("strict_checks")

EPS = 0.001


# A correct learner, written here from the formulas (not imported from course_lib).
def dice(prediction, truth):
    axes = tuple(range(1, prediction.dim()))
    return 2.0 * (prediction * truth).sum(dim=axes) / ((prediction ** 2 + truth ** 2).sum(dim=axes) + EPS)


def dice_score(prediction, truth):
    return dice(prediction, truth).mean()


def dice_loss(prediction, truth):
    return (1.0 - dice(prediction, truth)).mean()


def decode(stages, memories, handoffs):
    deepest = len(stages) - 1
    state = memories[deepest].zero_state(stages[deepest][1][0])
    output = None
    for level in range(deepest, -1, -1):
        if level != deepest:
            cell, hidden = torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1)
            state = (cell, hidden)
        for x in reversed(stages[level][1]):
            output, state = memories[level](x, state)
    return output


def test_correct_answers_pass_with_one_line_each_and_no_stderr(capfd):
    check_dice(dice)
    check_dice(dice, seed=3)
    check_dice_score_and_loss(dice_score, dice_loss)
    check_dice_score_and_loss(dice_score, dice_loss, seed=4)
    check_cfcm_decoder(decode)
    check_cfcm_decoder(decode, seed=1)
    out, err = capfd.readouterr()
    assert err == ""
    assert len(ok_lines(out)) == 6, out


def test_the_unfinished_stub_fails_saying_so():
    def stub(*_args, **_kwargs):
        raise NotImplementedError()

    for check in (check_dice, check_cfcm_decoder):
        with pytest.raises(AssertionError, match="NotImplementedError"):
            check(stub)
    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_dice_score_and_loss(stub, dice_loss)


def test_the_library_answer_is_refused():
    with pytest.raises(AssertionError, match="course_lib's own"):
        check_dice(library_dice)


def test_dice_averaged_over_the_batch_is_named():
    with pytest.raises(AssertionError, match=r"one value per sample, shape \(3,\)"):
        check_dice(lambda p, t: dice(p, t).mean())


def test_dice_summed_over_too_few_axes_is_named():
    with pytest.raises(AssertionError, match="still has the axes"):
        check_dice(lambda p, t: 2 * (p * t).sum(dim=1) / ((p ** 2 + t ** 2).sum(dim=1) + EPS))


def test_dice_without_eps_is_named():
    with pytest.raises(AssertionError, match="NaN where both prediction and mask are empty|without EPS"):
        check_dice(lambda p, t: 2 * (p * t).sum(dim=tuple(range(1, p.dim())))
                   / (p ** 2 + t ** 2).sum(dim=tuple(range(1, p.dim()))))


def test_dice_without_squares_is_named():
    def unsquared(p, t):
        axes = tuple(range(1, p.dim()))
        return 2 * (p * t).sum(dim=axes) / ((p + t).sum(dim=axes) + EPS)

    with pytest.raises(AssertionError, match=r"squares both"):
        check_dice(unsquared)


def test_dice_that_cuts_the_gradient_fails():
    with pytest.raises(AssertionError, match="without a gradient"):
        check_dice(lambda p, t: dice(p.detach(), t))


def test_score_and_loss_slips_are_named():
    with pytest.raises(AssertionError, match=r"Average over the batch"):
        check_dice_score_and_loss(lambda p, t: dice(p, t), dice_loss)
    with pytest.raises(AssertionError, match="equals the loss"):
        check_dice_score_and_loss(dice_loss, dice_loss)
    with pytest.raises(AssertionError, match="-Dice"):
        check_dice_score_and_loss(dice_score, lambda p, t: -dice(p, t).mean())
    with pytest.raises(AssertionError, match="equals the score"):
        check_dice_score_and_loss(dice_score, dice_score)


def test_decoder_reading_the_ladder_forwards_is_named():
    def forwards(stages, memories, handoffs):
        flipped = [(out, list(reversed(ladder))) for out, ladder in stages]
        return decode(flipped, memories, handoffs)

    with pytest.raises(AssertionError, match="REVERSE order"):
        check_cfcm_decoder(forwards)


def test_decoder_swapping_cell_and_hidden_is_named():
    def swapped(stages, memories, handoffs):
        deepest = len(stages) - 1
        state = memories[deepest].zero_state(stages[deepest][1][0])
        for level in range(deepest, -1, -1):
            if level != deepest:
                hidden, cell = torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1)
                state = (cell, hidden)
            for x in reversed(stages[level][1]):
                output, state = memories[level](x, state)
        return output

    with pytest.raises(AssertionError, match="swaps cell and hidden"):
        check_cfcm_decoder(swapped)


def test_decoder_without_hand_off_is_named():
    def restarting(stages, memories, handoffs):
        for level in range(len(stages) - 1, -1, -1):
            state = memories[level].zero_state(stages[level][1][0])
            for x in reversed(stages[level][1]):
                output, state = memories[level](x, state)
        return output

    with pytest.raises(AssertionError, match="restarts every level from zeros"):
        check_cfcm_decoder(restarting)


def test_decoder_stopping_at_the_deepest_level_is_named():
    def deepest_only(stages, memories, handoffs):
        state = memories[-1].zero_state(stages[-1][1][0])
        for x in reversed(stages[-1][1]):
            output, state = memories[-1](x, state)
        return output

    with pytest.raises(AssertionError, match="deepest level's size"):
        check_cfcm_decoder(deepest_only)


def test_decoder_returning_the_cell_is_named():
    def cell_out(stages, memories, handoffs):
        deepest = len(stages) - 1
        state = memories[deepest].zero_state(stages[deepest][1][0])
        for level in range(deepest, -1, -1):
            if level != deepest:
                state = tuple(torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1))
            for x in reversed(stages[level][1]):
                _, state = memories[level](x, state)
        return state[0]

    with pytest.raises(AssertionError, match="last CELL state"):
        check_cfcm_decoder(cell_out)


def test_decoder_that_only_works_for_four_levels_fails_the_visible_check():
    def four_levels(stages, memories, handoffs):
        state = memories[3].zero_state(stages[3][1][0])
        for level in (3, 2, 1, 0):
            if level != 3:
                state = tuple(torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1))
            for x in reversed(stages[level][1]):
                output, state = memories[level](x, state)
        return output

    with pytest.raises(AssertionError, match=r"layers=\[2, 3, 2\].*IndexError"):
        check_cfcm_decoder(four_levels)
