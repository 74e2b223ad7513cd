"""course_lib.grading.feedback: a check shows "passed" or "not yet" in a student's session and raises only where
a grade is taken; the progress table lists every exercise of a notebook."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from course_lib.grading import feedback
from course_lib.grading.feedback import CheckFailed, Think, checker_modules, exercise_check, progress
from course_lib.instructor.exercises import check_imports
from grading_helpers import course_notebooks

REPO_ROOT = Path(__file__).resolve().parent.parent

NOTEBOOK = "99_feedback_test"


@exercise_check(NOTEBOOK, 1, "doubling", points=2)
def check_double(double) -> str:
    if double(2) != 4:
        raise AssertionError(f"double(2) gave {double(2)}, expected 4.\nMultiply by two.")
    return "double(2) is 4."


@exercise_check(NOTEBOOK, 2, "halving", points=1)
def check_half(half) -> str:
    if half(4) != 2:
        raise AssertionError("half(4) is not 2.")
    return "half(4) is 2."


@pytest.fixture(autouse=True)
def forget_results():
    yield
    for exercise in list(feedback._RESULTS):
        if exercise.notebook == NOTEBOOK:
            del feedback._RESULTS[exercise]


def test_in_a_students_session_a_failed_check_is_shown_and_does_not_raise(student_session, capsys):
    assert check_double(lambda v: v + 1) is None
    out = capsys.readouterr().out
    assert out.startswith("NOT YET Exercise 1 · doubling (2 points): not yet\n")
    assert "double(2) gave 3, expected 4." in out and feedback.FIX_ADVICE in out


def test_a_passed_check_says_so_in_both_sessions(student_session, capsys, monkeypatch):
    check_double(lambda v: 2 * v)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    check_double(lambda v: 2 * v)
    out = capsys.readouterr().out
    assert out.count("OK  Exercise 1 · doubling (2 points): passed\ndouble(2) is 4.") == 2


@pytest.mark.parametrize("variable, value", [("NBGRADER_EXECUTION", "autograde"), ("NBGRADER_EXECUTION", "validate"),
                                             ("COURSE_STRICT_CHECKS", "1")])
def test_where_a_grade_is_taken_a_failed_check_raises_with_the_diagnosis_alone(student_session, monkeypatch,
                                                                                variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(CheckFailed, match="double.2. gave 3") as failure:
        check_double(lambda v: v + 1)
    assert isinstance(failure.value, AssertionError), "an AssertionError, so every test framework counts it failed"
    lines = failure.value._render_traceback_()
    assert "Exercise 1 · doubling (2 points): not yet" in lines[0]
    assert lines[1:] == ["double(2) gave 3, expected 4.", "Multiply by two.", feedback.FIX_ADVICE]
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


def test_a_check_that_cannot_run_is_not_yet_rather_than_a_crash(student_session, capsys):
    check_double(None)  # the learner passed something that is not a function
    out = capsys.readouterr().out
    assert "not yet" in out and "the check could not run: TypeError" in out


def test_in_a_kernel_the_result_is_a_rich_panel(student_session):
    shell = InteractiveShell.instance()
    try:
        with capture_output() as captured:
            check_double(lambda v: v + 1)
            check_half(lambda v: v / 2)
    finally:
        InteractiveShell.clear_instance()
    assert captured.stdout == "" and captured.stderr == "", "everything goes through IPython's display"
    failed, passed = (output.data for output in captured.outputs)
    assert "course-check-not-yet" in failed["text/html"] and "double(2) gave 3" in failed["text/html"]
    assert failed["text/plain"].startswith("NOT YET Exercise 1")
    assert "course-check-passed" in passed["text/html"] and passed["text/plain"].startswith("OK  Exercise 2")
    assert shell is not None


def test_progress_lists_every_exercise_with_its_last_result(student_session, capsys):
    first = progress(NOTEBOOK)
    assert [result for _, result in first.rows] == [None, None]
    assert "not checked yet" in str(first)
    check_double(lambda v: 2 * v)
    check_half(lambda v: v)
    check_half(lambda v: v / 2)  # fixed and run again: the last result counts
    check_double(lambda v: v)    # broken again
    table = progress(NOTEBOOK)
    assert [result.passed for _, result in table.rows] == [False, True]
    assert table.points_passed == 1 and table.points_total == 3
    text = str(table)
    assert "1 of 3 points' checks passed" in text
    assert "Exercise 1 · doubling (2 points): not yet: double(2) gave 2, expected 4." in text
    assert "Exercise 2 · halving (1 point): passed" in text
    assert "<table>" in table._repr_html_()


def test_think_questions_are_listed_apart_as_read_by_the_instructor(student_session, monkeypatch):
    monkeypatch.setitem(feedback.THINKS, NOTEBOOK, (Think(1, "predict", 1), Think(2, "explain", 2)))
    check_double(lambda v: 2 * v)
    table = progress(NOTEBOOK)
    assert table.points_passed == 2 and table.points_total == 3 and table.points_by_hand == 3
    text = str(table)
    assert text.splitlines()[0] == (f"{NOTEBOOK}: 2 of 3 points' checks passed; 3 more points for the Think answers, "
                                    "read by your instructor")
    assert text.splitlines()[-2:] == ["  Think 1 · predict (1 point): read by your instructor",
                                      "  Think 2 · explain (2 points): read by your instructor"]
    assert "passed" not in text.split("Think 1")[1] and "not yet" not in text.split("Think 1")[1]
    html = table._repr_html_()
    assert "3 more points for the Think answers" in html and "Think 2 · explain (2 points)" in html


def _written_answers(notebook: str) -> list[tuple[int, str, float]]:
    """(number, title, points) of each Think question of a solution notebook: its heading, then its answer cell."""
    cells = nbformat.read(REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb", as_version=4).cells
    headings = [re.match(r"### Think (\d+) \((\d+) points?, read by your instructor\): (.+)", cell.source)
                for cell in cells if cell.cell_type == "markdown" and cell.source.startswith("### Think")]
    assert all(headings), f"{notebook}: a Think heading is not '### Think N (P point(s), read by your instructor): ...'"
    answers = [float(cell.metadata["nbgrader"]["points"]) for cell in cells
               if cell.metadata.get("nbgrader", {}).get("grade") and cell.metadata["nbgrader"].get("solution")]
    assert [float(h[2]) for h in headings] == answers, f"{notebook}: Think headings and graded answers differ in points"
    return [(int(h[1]), h[3].strip(), float(h[2])) for h in headings]


@pytest.mark.parametrize("notebook", course_notebooks())
def test_the_progress_table_lists_every_think_question_of_the_notebook(notebook):
    listed = [(think.number, think.title, think.points) for think in progress(notebook).thinks]
    assert listed == _written_answers(notebook), f"update THINKS in course_lib/grading/feedback.py for {notebook}"


def test_every_course_notebook_has_its_exercises_registered():
    for notebook in course_notebooks():
        numbers = [exercise.number for exercise, _ in progress(notebook).rows]
        assert numbers == list(range(1, len(numbers) + 1)), f"{notebook}: exercises numbered {numbers}"


def test_a_notebooks_checkers_are_found_without_a_table():
    """Every checker registered for a notebook lives in a module ``checker_modules`` finds for it, and each check a
    notebook's cells import comes from one of those: a new checker module needs no registration."""
    import importlib
    import pkgutil

    import course_lib.grading as grading

    for info in pkgutil.iter_modules(grading.__path__):
        importlib.import_module(f"course_lib.grading.{info.name}")
    for notebook in course_notebooks():
        found = checker_modules(notebook)
        assert found, f"no module of course_lib.grading names {notebook!r}"
        for exercise, _ in progress(notebook).rows:
            homes = {module for module in found if any(
                getattr(value, "exercise", None) == exercise for value in vars(sys.modules[module]).values())}
            assert homes, f"{notebook}: exercise {exercise.number} is registered outside {found}"
        imported = set(check_imports(nbformat.read(REPO_ROOT / "solutions" / notebook / f"{notebook}.ipynb",
                                                   as_version=4)).values())
        assert imported, f"{notebook}: no cell imports a check_ from course_lib.grading"
        assert imported <= set(found), f"{notebook} imports checks from {sorted(imported - set(found))}"


def test_one_exercise_number_cannot_name_two_exercises():
    with pytest.raises(ValueError, match="registered twice"):
        exercise_check(NOTEBOOK, 1, "something else", points=1)


def test_progress_of_an_unknown_notebook_names_the_known_ones():
    with pytest.raises(ValueError, match="no exercises are registered for 'nope'"):
        progress("nope")


# ---------------------------------------------------------------------------------------------- whose code runs
PIECES = "98_pieces_test"


@exercise_check(PIECES, 1, "twice", points=1)
def check_twice(twice) -> str:
    assert twice(3) == 6, "twice(3) is not 6."
    return "twice(3) is 6."


@exercise_check(PIECES, 2, "four times", points=1)
def check_four_times(four_times) -> str:
    assert four_times(3) == 12, "four_times(3) is not 12."
    return "four_times(3) is 12."


def _namespace(twice_body: str) -> dict:
    """A notebook's (or a library module's) globals: four_times calls twice by name; every call is counted."""
    scope = {"calls": []}
    exec(f"def twice(v):\n    calls.append('twice')\n    return {twice_body}\n\n"
         "def four_times(v):\n    calls.append('four_times')\n    return twice(twice(v))\n", scope)
    return scope


@pytest.fixture
def pieces():
    yield
    for exercise in list(feedback._RESULTS):
        if exercise.notebook == PIECES:
            del feedback._RESULTS[exercise]


def test_yours_or_reference_runs_yours_only_once_its_check_passed(student_session, pieces, capsys):
    notebook, course = _namespace("2 * v"), _namespace("v + v")
    assert feedback.yours_or_reference(notebook["twice"], course["twice"], check_twice) is course["twice"]
    check_twice(lambda v: v)
    assert feedback.yours_or_reference(notebook["twice"], course["twice"], check_twice) is course["twice"]
    check_twice(notebook["twice"])
    assert feedback.yours_or_reference(notebook["twice"], course["twice"], check_twice) is notebook["twice"]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Using")]
    assert lines == ["Using the course's twice: yours has not been checked yet (exercise 1).",
                     "Using the course's twice: yours has not passed its check yet (exercise 1).",
                     "Using your twice (exercise 1 passed its check)."]


def test_assembled_pieces_replace_each_unfinished_piece_alone(student_session, pieces, capsys):
    notebook, course = _namespace("v * 3"), _namespace("v + v")  # the student's twice is wrong
    check_twice(notebook["twice"])
    check_four_times(lambda v: 4 * v)
    notebook["calls"].clear()
    capsys.readouterr()
    twice, four_times = feedback.assemble((notebook["twice"], course["twice"], check_twice),
                                          (notebook["four_times"], course["four_times"], check_four_times))
    assert four_times(1) == 4 and twice(1) == 2
    assert notebook["calls"] == ["four_times"] and course["calls"] == ["twice", "twice", "twice"], \
        "the student's four_times must call the course's twice, and the student's twice must not run"
    assert capsys.readouterr().out == ("Using your four_times (exercise 2 passed its check) and the course's twice "
                                       "(exercise 1 has not passed its check yet).\n")
    assert notebook["four_times"].__globals__["twice"] is notebook["twice"], "the notebook's own names are untouched"


def test_the_course_s_piece_calls_yours_where_yours_passed(student_session, pieces, capsys):
    notebook, course = _namespace("2 * v"), _namespace("v + v")
    check_twice(notebook["twice"])
    notebook["calls"].clear()
    capsys.readouterr()
    _, four_times = feedback.assemble((notebook["twice"], course["twice"], check_twice),
                                      (notebook["four_times"], course["four_times"], check_four_times))
    assert four_times(1) == 4 and notebook["calls"] == ["twice", "twice"] and course["calls"] == ["four_times"]
    assert capsys.readouterr().out == (
        "Using your twice (exercise 1 passed its check) and the course's four_times (exercise 2 has not been checked "
        "yet).\n")


def test_passed_reads_the_last_result_of_the_check(student_session, pieces, capsys):
    assert not feedback.passed(check_twice)
    check_twice(lambda v: v)
    assert not feedback.passed(check_twice)
    check_twice(lambda v: 2 * v)
    assert feedback.passed(check_twice)
