"""Each exercise judged on its own: a check runs its answer with the course's versions of the earlier answers it
builds on (course_lib.grading.isolation, declared with exercise_check's ``answers`` and ``builds_on``), restores
the student's afterwards, and says so when the student's own has not passed yet."""

from __future__ import annotations

import pytest

from course_lib.grading import feedback
from course_lib.grading.core import call_learner
from course_lib.grading.feedback import CheckFailed, exercise_check

NOTEBOOK = "98_isolation_test"


def course_double(value):
    return 2 * value


@exercise_check(NOTEBOOK, 1, "doubling (double)", points=1, answers={"double": course_double})
def check_double(double) -> str:
    got = call_learner(double, 3, exercise="double")
    if got != 6:
        raise AssertionError(f"double(3) gave {got}, expected 6.")
    return "double(3) is 6."


@exercise_check(NOTEBOOK, 2, "quadrupling (quadruple)", points=2, answers={"quadruple": lambda v: 4 * v},
                builds_on=(check_double,))
def check_quadruple(quadruple) -> str:
    got = call_learner(quadruple, 5, exercise="quadruple")
    if got != 20:
        raise AssertionError(f"quadruple(5) gave {got}, expected 20.")
    return "quadruple(5) is 20."


@exercise_check(NOTEBOOK, 3, "octupling (octuple)", points=1, builds_on=(check_quadruple,))
def check_octuple(octuple) -> str:
    got = call_learner(octuple, 1, exercise="octuple")
    if got != 8:
        raise AssertionError(f"octuple(1) gave {got}, expected 8.")
    return "octuple(1) is 8."


@pytest.fixture(autouse=True)
def forget_results():
    yield
    for exercise in list(feedback._RESULTS):
        if exercise.notebook == NOTEBOOK:
            del feedback._RESULTS[exercise]


def notebook(source: str) -> dict:
    """A notebook's namespace after running ``source`` as a cell."""
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


WRONG_DOUBLE = "def double(v):\n    return v + 2\n"


def result(check) -> feedback.CheckResult:
    return feedback._RESULTS[check.exercise]


def test_a_right_answer_on_a_wrong_earlier_one_passes_and_says_whose_ran(student_session, capsys):
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v):\n    return double(double(v))\n")
    check_double(namespace["double"])
    check_quadruple(namespace["quadruple"])
    assert not result(check_double).passed and result(check_quadruple).passed
    assert result(check_quadruple).message.splitlines()[-1] == (
        "Your double() has not passed its check yet (exercise 1); this check used the course's double() for it.")
    assert namespace["double"](1) == 3, "the student's double is back in the notebook after the check"


def test_with_a_right_earlier_answer_nothing_is_added(student_session):
    namespace = notebook("def double(v):\n    return 2 * v\n\ndef quadruple(v):\n    return double(double(v))\n")
    check_double(namespace["double"])
    check_quadruple(namespace["quadruple"])
    assert result(check_quadruple).passed and result(check_quadruple).message == "quadruple(5) is 20."


def test_an_unchecked_earlier_answer_is_named_as_such(student_session):
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v):\n    return double(double(v))\n")
    check_quadruple(namespace["quadruple"])
    assert "Your double() has not been checked yet (exercise 1)" in result(check_quadruple).message


def test_an_answer_that_does_not_call_the_earlier_one_gets_no_line(student_session):
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v):\n    return 4 * v\n")
    check_double(namespace["double"])
    check_quadruple(namespace["quadruple"])
    assert result(check_quadruple).message == "quadruple(5) is 20."


def test_a_wrong_later_answer_is_still_caught_for_its_own_slip(student_session):
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v):\n    return double(v) + 1\n")
    check_quadruple(namespace["quadruple"])
    assert not result(check_quadruple).passed
    assert result(check_quadruple).message.startswith("quadruple(5) gave 11, expected 20.")


@pytest.mark.parametrize("source", [
    "def quadruple(v, d=double):\n    return d(d(v))\n",                            # a default argument
    "def quadruple(v, *, d=double):\n    return d(d(v))\n",                         # a keyword-only default
    "def make(d):\n    def quadruple(v):\n        return d(d(v))\n    return quadruple\nquadruple = make(double)\n",
    "def twice(v):\n    return double(double(v))\n\ndef quadruple(v):\n    return twice(v)\n",  # through a helper
    "quadruple = lambda v: double(double(v))\n",
])
def test_captured_or_indirect_earlier_answers_are_replaced_too(student_session, source):
    namespace = notebook(WRONG_DOUBLE + source)
    student_double = namespace["double"]
    check_quadruple(namespace["quadruple"])
    assert result(check_quadruple).passed, result(check_quadruple).message
    assert "Your double()" in result(check_quadruple).message
    assert namespace["double"] is student_double and namespace["quadruple"](1) == 5, "everything put back"


def test_the_earlier_answer_is_restored_even_when_the_check_raises(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v, d=double):\n    return d(v) + double(v) - 6\n")
    defaults = namespace["quadruple"].__defaults__
    with pytest.raises(CheckFailed, match=r"quadruple\(5\) gave 14"):  # 10 + 10 - 6: the course's double, both ways
        check_quadruple(namespace["quadruple"])
    assert namespace["quadruple"].__defaults__ is defaults and namespace["double"](1) == 3


def test_a_name_the_notebook_never_defined_is_lent_for_the_check_only(student_session):
    namespace = notebook("def quadruple(v):\n    return double(double(v))\n")  # the double cell was never run
    check_quadruple(namespace["quadruple"])
    assert result(check_quadruple).passed
    assert "double" not in namespace


def test_the_pieces_of_earlier_exercises_are_collected_transitively(student_session):
    namespace = notebook(WRONG_DOUBLE + "def quadruple(v):\n    return v\n\n"
                                        "def octuple(v):\n    return quadruple(double(v))\n")
    check_octuple(namespace["octuple"])
    assert result(check_octuple).passed
    lines = result(check_octuple).message.splitlines()
    assert [line.split(" has ")[0] for line in lines[1:]] == ["Your double()", "Your quadruple()"]


def test_an_unstarted_helper_is_named_by_its_function_name(student_session):
    namespace = notebook("def halve(v):\n    raise NotImplementedError()\n\n"
                         "def quadruple(v):\n    return 8 * halve(v)\n")
    check_quadruple(namespace["quadruple"])
    message = result(check_quadruple).message
    assert "called halve(), which raised NotImplementedError: halve is not written yet" in message
    assert "Replace `raise NotImplementedError()` in halve" in message


def test_an_unstarted_answer_itself_keeps_the_plain_advice(student_session):
    namespace = notebook("def quadruple(v):\n    raise NotImplementedError()\n")
    check_quadruple(namespace["quadruple"])
    assert "raised NotImplementedError. Replace `raise NotImplementedError()` with your code" in \
        result(check_quadruple).message


def test_an_exercise_can_build_only_on_earlier_ones_that_declare_their_answers():
    with pytest.raises(ValueError, match="cannot build on"):
        exercise_check(NOTEBOOK, 4, "no answers declared", points=1, builds_on=(check_octuple,))
    with pytest.raises(ValueError, match="cannot build on"):
        exercise_check(NOTEBOOK, 1, "not earlier", points=1, builds_on=(check_quadruple,))


# ---------------------------------------------------------------------------------------------- the course's checks
CELL_UPDATE_FIXED_BIAS = """
def cell_update(cell, i, j, f, forget_bias=1.0, activation=torch.relu):
    return cell * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * activation(j)
"""
STEP = """
def split_gates(features):
    raise NotImplementedError()


def hidden_state(new_cell, o, activation=torch.relu):
    return activation(new_cell) * torch.sigmoid(o)


def convlstm_step(conv, x, state, forget_bias=1.0, activation=torch.relu):
    cell, hidden = state
    i, j, f, o = split_gates(conv(torch.cat([x, hidden], dim=1)))
    new_cell = cell_update(cell, i, j, f, forget_bias=forget_bias, activation=activation)
    new_hidden = hidden_state(new_cell, o, activation=activation)
    return new_hidden, (new_cell, new_hidden)


def unroll(cell, inputs, state):
    if len(inputs) == 0:
        raise ValueError("no inputs")
    outputs = []
    for x in inputs:
        output, state = convlstm_step(cell.conv, x, state, cell.forget_bias, cell.activation)
        outputs.append(output)
    return outputs, state
"""


def test_convlstm_step_is_graded_apart_from_the_gate_pieces(student_session):
    from course_lib.grading import convlstm

    namespace = notebook("import torch\n" + CELL_UPDATE_FIXED_BIAS + STEP)
    convlstm.check_split_gates(namespace["split_gates"])
    convlstm.check_cell_update(namespace["cell_update"])
    convlstm.check_hidden_state(namespace["hidden_state"])
    convlstm.check_convlstm_step(namespace["convlstm_step"])
    step = feedback._RESULTS[convlstm.check_convlstm_step.exercise]
    assert step.passed, step.message
    assert "Your split_gates() has not passed its check yet (exercise 1)" in step.message
    assert "Your cell_update() has not passed its check yet (exercise 2)" in step.message
    assert "hidden_state" not in step.message.split("\n", 1)[1], "the student's hidden_state passed"


def test_unroll_built_on_a_wrong_convlstm_step_passes(student_session):
    from course_lib.grading import convlstm

    namespace = notebook("import torch\n" + CELL_UPDATE_FIXED_BIAS + STEP.replace("cat([x, hidden]", "cat([hidden, x]"))
    convlstm.check_convlstm_step(namespace["convlstm_step"])
    assert not feedback._RESULTS[convlstm.check_convlstm_step.exercise].passed
    convlstm.check_unroll(namespace["unroll"])
    unrolled = feedback._RESULTS[convlstm.check_unroll.exercise]
    assert unrolled.passed, unrolled.message
    assert unrolled.message.splitlines()[1:] == [
        "Your convlstm_step() has not passed its check yet (exercise 4); this check used the course's convlstm_step() "
        "for it."]


def test_the_course_pieces_are_the_library_cells_equations():
    import torch

    from course_lib.grading.convlstm import (course_cell_update, course_convlstm_step, course_hidden_state,
                                             course_split_gates)
    from course_lib.nn import ConvLSTMCell

    torch.manual_seed(0)
    for activation, bias in ((torch.relu, 1.0), (torch.tanh, 0.5), (torch.sigmoid, 0.0)):
        cell = ConvLSTMCell(2, 3, forget_bias=bias, activation=activation)
        x, state = torch.randn(2, 2, 5, 5), (torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5))
        with torch.no_grad():
            hidden, (new_cell, _) = cell(x, state)
            i, j, f, o = course_split_gates(cell.conv(torch.cat([x, state[1]], dim=1)))
            pieced_cell = course_cell_update(state[0], i, j, f, bias, activation)
            stepped = course_convlstm_step(cell.conv, x, state, bias, activation)
        assert torch.allclose(pieced_cell, new_cell, atol=1e-6)
        assert torch.allclose(course_hidden_state(new_cell, o, activation), hidden, atol=1e-6)
        assert torch.allclose(stepped[0], hidden) and torch.allclose(stepped[1][0], new_cell)
    with pytest.raises(ValueError, match="multiple of 4"):
        course_split_gates(torch.zeros(1, 6, 2, 2))
