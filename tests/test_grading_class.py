"""A hostile class, graded as an instructor grades it: what students really submit, and a report of what they missed.

Made-up students on the fixture assignment (running_total, 1 point; row_means, 2 points), each doing one thing
that used to cost a correct notebook its grade, or that must not earn one:

* pasted:      a correct notebook with the answer and test cells copied and pasted (same grade ids);
* renamed:     a correct notebook whose answer cell's grade id was renamed;
* stripped:    a correct notebook whose answer cell lost its nbgrader metadata;
* deafhang:    running_total ignores SIGINT (set inside it, where no kernel restores it), then loops forever;
               row_means is right;
* killer:      row_means ends the kernel (os._exit); running_total is right;
* noisy:       right answers that print to stderr, log a warning and warn from inside the functions;
* disguised:   the library's own code under the exercise's name, its __module__ rewritten;
* broken:      a file that is not a notebook.

Every notebook must end with the points its answers deserve and a status that says what happened; the broken one
is "not graded", with a feedback page saying why, and the exit status says something was not graded.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest

from course_lib.instructor.class_grading import grade_class
from course_lib.instructor.commands import grade_main as main
from course_lib.instructor.report import Exercise, exercise_stats, report_html
from course_lib.instructor.status import GRADED, CellState, NotebookStatus
from course_lib.instructor.tables import CellRow, NotebookRow
from grading_helpers import (FIXTURE_RELEASE, FIXTURE_SOLUTIONS, cell_scores, filled_with_solutions, grade_id, read,
                             with_answers, write_submission)

NAME = "00_fixture"
TIMEOUT_SECONDS = 5
TOTAL = "import numpy as np\ndef running_total(values):\n    return np.cumsum(np.asarray(values, dtype=float))"
MEANS = "import numpy as np\ndef row_means(matrix):\n    return np.asarray(matrix, dtype=float).mean(axis=1)"
FULL = {"test_running_total": 1.0, "test_row_means": 2.0}


def _release():
    return FIXTURE_RELEASE / NAME / f"{NAME}.ipynb"


def _solved():
    return filled_with_solutions(_release(), FIXTURE_SOLUTIONS / NAME / f"{NAME}.ipynb")


def _pasted():
    """As JupyterLab pastes: new cell ids, the nbgrader metadata (grade ids included) copied along."""
    notebook = _solved()
    index = next(i for i, cell in enumerate(notebook.cells) if grade_id(cell) == "running_total")
    for offset, cell in enumerate([read(_release()).cells[index], notebook.cells[index + 1]]):  # stub and its test
        pasted = copy.deepcopy(cell)
        pasted["id"] = f"pasted-{offset}"
        notebook.cells.insert(index + 2 + offset, pasted)
    return notebook


def _renamed():
    notebook = _solved()
    cell = next(cell for cell in notebook.cells if grade_id(cell) == "row_means")
    cell.metadata.nbgrader["grade_id"] = "my_row_means"
    return notebook


def _stripped():
    notebook = _solved()
    cell = next(cell for cell in notebook.cells if grade_id(cell) == "row_means")
    del cell.metadata["nbgrader"]
    return notebook


STUDENTS = {
    "full": (_solved, FULL, "graded"),
    "pasted": (_pasted, FULL, "repaired: cell"),
    "renamed": (_renamed, FULL, "repaired: cell 'row_means' restored (its grade id was 'my_row_means'"),
    "stripped": (_stripped, FULL, "repaired: cell 'row_means' restored (its nbgrader metadata had been removed"),
    "deafhang": (lambda: with_answers(_release(), {
        "running_total": "import signal\n\ndef running_total(values):\n"
                         "    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's interrupt changes nothing\n"
                         "    while True:\n        pass",
        "row_means": MEANS}), {"test_running_total": 0.0, "test_row_means": 2.0},
                 "repaired: answer cell 'running_total' was stopped"),
    "killer": (lambda: with_answers(_release(), {
        "running_total": TOTAL, "row_means": "import os\ndef row_means(matrix):\n    os._exit(1)"}),
               {"test_running_total": 1.0, "test_row_means": 0.0}, "repaired: answer cell 'row_means' was stopped"),
    "noisy": (lambda: with_answers(_release(), {
        "running_total": "import logging, sys, warnings\nimport numpy as np\n\ndef running_total(values):\n"
                         "    print('debug: got', values, file=sys.stderr)\n    logging.warning('still debugging')\n"
                         "    warnings.warn('a warning of my own')\n    return np.cumsum(np.asarray(values, float))",
        "row_means": "import logging, sys\nimport numpy as np\nlogging.basicConfig()\n\ndef row_means(matrix):\n"
                     "    logging.getLogger('mine').error('debug: %s', matrix.shape)\n"
                     "    print('debug', file=sys.stderr)\n    return np.asarray(matrix, float).mean(axis=1)"}),
              FULL, "graded"),
    "disguised": (lambda: with_answers(_release(), {
        "running_total": "from course_lib.grading.core import describe as running_total\n"
                         "running_total.__module__ = '__main__'\nrunning_total.__qualname__ = 'running_total'",
        "row_means": MEANS}), {"test_running_total": 0.0, "test_row_means": 2.0}, "graded"),
}


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class") / "submitted"
    for student, (make, _, _) in STUDENTS.items():
        write_submission(folder, student, NAME, make())
    (folder / "broken" / NAME).mkdir(parents=True)
    (folder / "broken" / NAME / f"{NAME}.ipynb").write_text('{"cells": [ this is not JSON')
    return folder


@pytest.fixture(scope="module")
def graded(submitted, tmp_path_factory):
    out = tmp_path_factory.mktemp("graded")
    report = grade_class(submitted, out, solutions_dir=FIXTURE_SOLUTIONS, workers=2, timeout=TIMEOUT_SECONDS,
                         progress=False)
    cells = list(csv.DictReader(report.cell_grades_csv.open()))
    grades = {row["student_id"]: row for row in csv.DictReader(report.grades_csv.open())}
    return report, cells, grades


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_every_student_gets_the_points_their_answers_deserve(graded, student):
    _, cells, grades = graded
    _, points, status = STUDENTS[student]
    assert cell_scores(cells, student, NAME) == points, f"{student}: {grades[student]['status']}"
    assert grades[student]["status"].startswith(status), grades[student]["status"]
    assert all(row["status"] == grades[student]["status"] for row in cells if row["student_id"] == student)


def test_a_file_that_is_not_a_notebook_is_named_not_graded_never_a_silent_zero(graded):
    report, cells, grades = graded
    row = grades["broken"]
    assert row["status"].startswith("not graded: the file is not a readable notebook"), row
    assert row["score"] == "", "an ungraded notebook must not look like a zero"
    assert not [c for c in cells if c["student_id"] == "broken" and c["score"] not in ("",)]
    page = (report.out_dir / "feedback" / "broken" / NAME / f"{NAME}.html").read_text()
    assert "not graded" in page and "not a readable notebook" in page
    assert report.not_graded == [("broken", NAME)]
    assert report.failures == [] or all("broken" in f for f in report.failures)


def test_failing_checks_leave_their_diagnosis_in_the_grade_sheet_read_as_data(graded):
    """The kind and the cause come from the diagnosis the check wrote into the notebook, not from the error text."""
    _, cells, _ = graded
    disguised = next(c for c in cells if c["student_id"] == "disguised" and c["grade_id"] == "test_running_total")
    assert disguised["failure"] == "library code" and "course_lib's own code" in disguised["cause"], disguised
    hung = next(c for c in cells if c["student_id"] == "deafhang" and c["grade_id"] == "test_running_total")
    assert hung["failure"] == "crashed" and hung["cause"] == "the answer raised TimeoutError", hung
    assert "ran past" in hung["diagnosis"], hung


def test_the_class_report_counts_points_and_causes_per_exercise(graded):
    report, _, _ = graded
    stats = {row["grade_id"]: row for row in csv.DictReader((report.out_dir / "exercise_stats.csv").open())}
    total = stats["test_running_total"]
    graded_students = len(STUDENTS)  # the broken one is not counted
    assert int(total["students"]) == graded_students
    assert int(total["wrong"]) == 2 and int(total["not_started"]) == 0  # deafhang, disguised
    assert float(total["full_marks"]) == pytest.approx((graded_students - 2) / graded_students, abs=1e-3)
    assert float(total["mean_points"]) == pytest.approx((graded_students - 2) / graded_students, abs=1e-3)
    assert total["exercise"] == "Exercise 1: running total"
    causes = {total[f"cause_{k}"] for k in (1, 2) if total.get(f"cause_{k}")}
    assert causes == {"the answer raised TimeoutError", "the answer is course_lib's own code, not the student's"}
    page = (report.out_dir / "class_report.html").read_text()
    assert "data:image/png;base64," in page and "Exercise 2: row means" in page and "Not graded (1)" in page


def test_the_command_line_exits_nonzero_and_counts_what_was_not_graded(submitted, tmp_path, capsys):
    only_broken = tmp_path / "one"
    (only_broken / "broken").parent.mkdir(parents=True, exist_ok=True)
    import shutil

    shutil.copytree(submitted / "broken", only_broken / "broken")
    shutil.copytree(submitted / "full", only_broken / "full")
    code = main([str(only_broken), "--out", str(tmp_path / "out"), "--solutions", str(FIXTURE_SOLUTIONS),
                 "--workers", "1", "--timeout", str(TIMEOUT_SECONDS), "--no-feedback", "--course-dir",
                 str(tmp_path / "course")])
    error = capsys.readouterr().err
    assert code == 1 and "1 notebook(s) not graded: broken/00_fixture" in error, error
    assert (tmp_path / "course" / "gradebook.db").is_file() and (tmp_path / "course" / "autograded" / "full").is_dir()


def test_two_shards_merged_give_the_same_grades_as_one_run(submitted, graded, tmp_path):
    shards = []
    for k in (1, 2):
        out = tmp_path / f"shard-{k}"
        grade_class(submitted, out, solutions_dir=FIXTURE_SOLUTIONS, workers=1, timeout=TIMEOUT_SECONDS,
                    feedback=False, progress=False, shard=(k, 2))
        shards.append(out)
    students = [{row["student_id"] for row in csv.DictReader((out / "grades.csv").open())} for out in shards]
    assert students[0] and students[1] and not students[0] & students[1], f"shards overlap or one is empty: {students}"
    assert main(["--merge", *map(str, shards), "--out", str(tmp_path / "merged"), "--solutions",
                 str(FIXTURE_SOLUTIONS), "--no-record"]) == 1  # the broken notebook is still not graded
    merged = {(r["student_id"], r["grade_id"]): (r["score"], r["status"])
              for r in csv.DictReader((tmp_path / "merged" / "cell_grades.csv").open())}
    whole = {(r["student_id"], r["grade_id"]): (r["score"], r["status"]) for r in graded[1]}
    assert merged == whole
    assert (tmp_path / "merged" / "class_report.html").is_file()
    assert (tmp_path / "merged" / "exercise_stats.csv").read_text() == \
        (graded[0].out_dir / "exercise_stats.csv").read_text()


def test_written_answers_awaiting_manual_grading_read_as_awaiting_never_as_zero():
    """A "think" answer the student wrote has no score until the instructor grades it: the report says so, and an
    answer left as released (nbgrader's 0) is counted as not started, not as a wrong answer."""
    def row(student: str, grade: str, score: float | None, state: CellState) -> CellRow:
        return CellRow(student, "a", "a", grade, score, 1.0, state)

    cells = [row("ann", "think-1", None, CellState.AWAITING), row("bob", "think-1", None, CellState.AWAITING),
             row("cat", "think-1", 0.0, CellState.UNANSWERED), row("ann", "think-2", 1.0, CellState.HAND_GRADED),
             row("bob", "think-2", 0.5, CellState.HAND_GRADED), row("ann", "test-1", 1.0, CellState.AUTOGRADED)]
    known = [Exercise("a", "test-1", "Exercise 1", False), Exercise("a", "think-1", "Think 1", True),
             Exercise("a", "think-2", "Think 2", True)]
    stats = {stat.exercise.grade_id: stat for stat in exercise_stats(cells, known)}
    assert stats["think-1"].awaiting == 2 and stats["think-1"].not_started == 1 and stats["think-1"].mean is None
    assert stats["think-2"].mean == 0.75 and stats["think-2"].awaiting == 0 and stats["think-2"].wrong == 1
    assert stats["test-1"].awaiting == 0 and stats["test-1"].mean == 1.0
    notebooks = [NotebookRow("a", s, 1.0, 3.0, GRADED, 1.0) for s in ("ann", "bob")]
    notebooks.append(NotebookRow("a", "dan", None, None, NotebookStatus.not_graded("not a notebook"), 0.0))
    page = report_html(notebooks, list(stats.values()))
    assert "awaiting manual grading: 2 of 3" in page and "<td>0.00 / 1</td>" not in page
    assert "written answers awaiting manual grading" in page and "Not graded (1)" in page
