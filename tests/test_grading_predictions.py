"""course_lib.grading.predictions: a Think question's prediction is read back after the run, and a missing or
malformed one gives None and a line saying why, never an exception (Run All and autograde go on)."""

from __future__ import annotations

import ast
import re

import pytest

from course_lib.grading.predictions import predicted_choice, predicted_numbers
from grading_helpers import REPO_ROOT, grade_id, is_prediction, is_solution, read

CHOICES = ("near 0", "in between", "near 1")


def unanswered():
    raise NotImplementedError()  # what the release's stub does


def test_a_choice_is_matched_without_regard_to_case_or_spaces(capsys):
    assert predicted_choice(lambda: "  In Between ", "Think 1", CHOICES) == "in between"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("strict", [False, True])
def test_a_prediction_not_written_yet_says_so_and_never_raises(capsys, monkeypatch, strict):
    if strict:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert predicted_choice(unanswered, "Think 1", CHOICES) is None
    assert predicted_numbers(unanswered, "Think 2", ["dice_gap"]) is None
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Think 1: no prediction yet.") and "'near 0' or 'in between' or 'near 1'" in out[0]
    assert out[1].startswith("Think 2: no prediction yet.") and "{'dice_gap': <a number>}" in out[1]


@pytest.mark.parametrize("answer", ["halfway", 0.5, None, ["in between"]])
def test_a_choice_that_is_not_one_of_the_choices_is_refused(capsys, answer):
    assert predicted_choice(lambda: answer, "Think 1", CHOICES) is None
    assert capsys.readouterr().out == f"Think 1: your prediction is {answer!r}; it should be 'near 0' or 'in between' " \
                                      "or 'near 1'.\n"


def test_a_prediction_function_that_raises_is_named_with_its_error(capsys):
    assert predicted_numbers(lambda: 1 / 0, "Think 1", ["forget", "input"], 0, 1) is None
    assert capsys.readouterr().out.startswith("Think 1: your prediction function raised ZeroDivisionError: division by zero.")


def test_numbers_come_back_as_floats_by_name():
    assert predicted_numbers(lambda: {"input": 1, "forget": 0.73}, "Think 1", ["forget", "input"], 0, 1) == \
        {"forget": 0.73, "input": 1.0}


@pytest.mark.parametrize("answer", [0.7, {"forget": 0.7}, {"forget": 0.7, "input": 0.5, "output": 0.5},
                                    {"forget": 1.3, "input": 0.5}, {"forget": True, "input": 0.5},
                                    {"forget": float("nan"), "input": 0.5}, {"forget": "0.7", "input": 0.5},
                                    {1: 0.7, "input": 0.5}])
def test_numbers_of_the_wrong_form_are_refused(capsys, answer):
    assert predicted_numbers(lambda: answer, "Think 1", ["forget", "input"], 0, 1) is None
    assert capsys.readouterr().out == (f"Think 1: your prediction is {answer!r}; it should be "
                                       "{'forget': <a number between 0 and 1>, 'input': <a number between 0 and 1>}.\n")


def test_numbers_without_bounds_take_any_finite_value():
    assert predicted_numbers(lambda: {"gap": -2.5}, "Think 2", ["gap"]) == {"gap": -2.5}


# ---------------------------------------------------------------------------------------------- the notebooks

SOLUTIONS = sorted((REPO_ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=[path.parent.name for path in SOLUTIONS])
def test_every_prediction_is_a_function_that_a_later_cell_reads_back(path):
    """The release's stub raises only when called (Run All goes on), and the prediction is shown next to the
    result by a locked cell further down."""
    cells = read(path).cells
    predictions = [(index, cell) for index, cell in enumerate(cells) if is_prediction(cell)]
    for index, cell in predictions:
        tree = ast.parse(cell.source)
        assert [type(node) for node in tree.body] == [ast.FunctionDef], \
            f"{grade_id(cell)}: a prediction cell defines one function and nothing else"
        name = tree.body[0].name
        readers = [later for later in cells[index + 1:] if later.cell_type == "code" and not is_solution(later)
                   and re.search(rf"predicted_(choice|numbers)\(\s*{name}\b", later.source)]
        assert readers, f"{grade_id(cell)}: no later cell reads {name} with predicted_choice or predicted_numbers"
