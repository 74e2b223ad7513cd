"""Notebook 3's checkers: right answers pass quietly, the usual mistakes fail with a message that helps."""

from __future__ import annotations

import pytest
import torch

from conftest import ok_lines
from course_lib.grading.convlstm import check_cell_update, check_convlstm_step, check_hidden_state, check_split_gates

pytestmark = pytest.mark.usefixtures("strict_checks")


# A correct learner, written here from the equations (not imported from course_lib).
def split_gates(features):
    if features.shape[1] % 4:
        raise ValueError("channels must be a multiple of 4")
    return tuple(torch.chunk(features, 4, dim=1))


def cell_update(cell, i, j, f, forget_bias=1.0, activation=torch.relu):
    return cell * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * activation(j)


def hidden_state(new_cell, o, activation=torch.relu):
    return activation(new_cell) * torch.sigmoid(o)


def convlstm_step(conv, x, state, forget_bias=1.0, activation=torch.relu):
    cell, hidden = state
    i, j, f, o = split_gates(conv(torch.cat([x, hidden], dim=1)))
    new_cell = cell_update(cell, i, j, f, forget_bias, activation)
    new_hidden = hidden_state(new_cell, o, activation)
    return new_hidden, (new_cell, new_hidden)


def test_correct_answers_pass_with_one_line_each_and_no_stderr(capfd):
    check_split_gates(split_gates)
    check_split_gates(split_gates, seed=1)
    check_cell_update(cell_update)
    check_cell_update(cell_update, seed=3)
    check_hidden_state(hidden_state)
    check_hidden_state(hidden_state, seed=5)
    check_convlstm_step(convlstm_step)
    check_convlstm_step(convlstm_step, seed=7)
    check_convlstm_step(convlstm_step, seed=8)
    out, err = capfd.readouterr()
    assert err == ""
    assert len(ok_lines(out)) == 9, out


def test_the_unfinished_stub_fails_saying_so():
    def stub(*_args, **_kwargs):
        raise NotImplementedError()

    for check in (check_split_gates, check_cell_update, check_hidden_state, check_convlstm_step):
        with pytest.raises(AssertionError, match="NotImplementedError"):
            check(stub)


def test_split_in_the_wrong_order_is_named():
    def wrong_order(features):
        i, j, f, o = split_gates(features)
        return i, f, j, o

    with pytest.raises(AssertionError, match=r"\[1\].*holds channels of f \(forget gate\)"):
        check_split_gates(wrong_order)


def test_split_that_accepts_any_channel_count_fails():
    with pytest.raises(AssertionError, match="multiple of 4"):
        check_split_gates(lambda features: tuple(torch.tensor_split(features, 4, dim=1)))


def test_forgotten_forget_bias_is_named():
    with pytest.raises(AssertionError, match="forget bias of 0"):
        check_cell_update(lambda cell, i, j, f, forget_bias=1.0, activation=torch.relu:
                          cell_update(cell, i, j, f, 0.0, activation))


def test_hard_coded_activation_is_named():
    with pytest.raises(AssertionError, match="activation=torch.relu"):
        check_cell_update(lambda cell, i, j, f, forget_bias=1.0, activation=torch.relu:
                          cell_update(cell, i, j, f, forget_bias, torch.relu))


def test_swapped_gates_are_named():
    with pytest.raises(AssertionError, match="i and f are swapped"):
        check_cell_update(lambda cell, i, j, f, forget_bias=1.0, activation=torch.relu:
                          cell * torch.sigmoid(i + forget_bias) + torch.sigmoid(f) * activation(j))


def test_hidden_state_without_activation_or_sigmoid_is_named():
    with pytest.raises(AssertionError, match="left out the activation"):
        check_hidden_state(lambda new_cell, o, activation=torch.relu: new_cell * torch.sigmoid(o))
    with pytest.raises(AssertionError, match="needs its sigmoid"):
        check_hidden_state(lambda new_cell, o, activation=torch.relu: activation(new_cell) * o)


def test_step_with_inputs_concatenated_the_wrong_way_fails():
    def hidden_first(conv, x, state, forget_bias=1.0, activation=torch.relu):
        cell, hidden = state
        i, j, f, o = split_gates(conv(torch.cat([hidden, x], dim=1)))
        new_cell = cell_update(cell, i, j, f, forget_bias, activation)
        return hidden_state(new_cell, o, activation), (new_cell, hidden_state(new_cell, o, activation))

    with pytest.raises(AssertionError, match=r"step 0: the new cell differs.*\[x, hidden\]"):
        check_convlstm_step(hidden_first)


def test_step_returning_the_state_the_wrong_way_round_is_named():
    def swapped_state(conv, x, state, forget_bias=1.0, activation=torch.relu):
        hidden, (cell, new_hidden) = convlstm_step(conv, x, state, forget_bias, activation)
        return hidden, (new_hidden, cell)

    with pytest.raises(AssertionError, match=r"return it as \(cell, hidden\)"):
        check_convlstm_step(swapped_state)


def test_step_that_ignores_the_previous_state_fails_at_step_one():
    def forgetful(conv, x, state, forget_bias=1.0, activation=torch.relu):
        cell, hidden = state
        return convlstm_step(conv, x, (torch.zeros_like(cell), torch.zeros_like(hidden)), forget_bias, activation)

    with pytest.raises(AssertionError, match="step 0"):
        check_convlstm_step(forgetful)
