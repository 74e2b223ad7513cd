"""Notebook 2's checkers: right answers pass quietly, the usual mistakes fail with a message that helps."""

from __future__ import annotations

import pytest
import torch

from conftest import ok_lines
from course_lib.grading.fusion import check_concat_fusion, check_sum_fusion

pytestmark = pytest.mark.usefixtures("strict_checks")


# A correct learner, written here (not imported from course_lib).
def concat_fusion(decoder, skip):
    if decoder.shape[0] != skip.shape[0] or decoder.shape[2:] != skip.shape[2:]:
        raise ValueError(f"cannot concatenate {tuple(decoder.shape)} and {tuple(skip.shape)}")
    return torch.cat([decoder, skip], dim=1)


def sum_fusion(decoder, skip):
    if decoder.shape != skip.shape:
        raise ValueError(f"cannot add {tuple(decoder.shape)} and {tuple(skip.shape)}")
    return decoder + skip


def test_correct_answers_pass_with_one_line_each_and_no_stderr(capfd):
    for seed in (0, 1, 2):
        check_concat_fusion(concat_fusion, seed=seed)
        check_sum_fusion(sum_fusion, seed=seed)
    out, err = capfd.readouterr()
    assert err == ""
    assert len(ok_lines(out)) == 6, out


def test_the_unfinished_stub_fails_saying_so():
    def stub(decoder, skip):
        raise NotImplementedError()

    for check in (check_concat_fusion, check_sum_fusion):
        with pytest.raises(AssertionError, match="NotImplementedError"):
            check(stub)


def test_skip_first_is_named():
    with pytest.raises(AssertionError, match="decoder's features first"):
        check_concat_fusion(lambda decoder, skip: concat_fusion(skip, decoder))


def test_batch_axis_concatenation_is_named():
    with pytest.raises(AssertionError, match="batch axis"):
        check_concat_fusion(lambda decoder, skip: torch.cat([decoder, skip], dim=0))


def test_concatenation_without_shape_checks_fails_on_mismatched_batches():
    # torch.cat itself refuses different heights (RuntimeError), and the checker asks for ValueError instead.
    with pytest.raises(AssertionError, match="raise ValueError"):
        check_concat_fusion(lambda decoder, skip: torch.cat([decoder, skip], dim=1))


def test_broadcasting_sum_fails():
    with pytest.raises(AssertionError, match=r"returned a result.*raise ValueError"):
        check_sum_fusion(lambda decoder, skip: decoder + skip)


def test_concatenation_passed_as_summation_is_named():
    with pytest.raises(AssertionError, match="That is concatenation"):
        check_sum_fusion(lambda decoder, skip: torch.cat([decoder, skip], dim=1))
