"""The real autograder on awkward submissions of the fixture assignment, all graded in one grade_class run.

* hang:    an answer loops forever; the per-cell timeout (shortened here to 5 s) cuts its test off, that
           test scores zero and the other exercise, and every other submission, is still graded;
* noisy:   correct answers that warn (Python, NumPy) and write to stderr; the checkers silence what runs
           inside them and nbgrader_config.py's IgnorePattern drops the known noise that reaches a test
           cell directly, so the answers keep full marks;
* crash:   an answer raises; the student reads a message naming the exercise and the error, and only that
           test scores zero;
* deleted: a correct submission whose second test cell was deleted; OverwriteCells.add_missing_cells puts
           it back, so it is graded (full marks) instead of waiting for manual grading.
"""

from __future__ import annotations

import csv

import pytest

from grading_helpers import (FIXTURE_RELEASE, FIXTURE_SOLUTIONS, cell_scores, error_text, filled_with_solutions,
                             grade_id, read, with_answers, write_submission)
from course_lib.instructor.class_grading import grade_class

NAME = "00_fixture"
TIMEOUT_SECONDS = 5
CORRECT_TOTAL = "import numpy as np\ndef running_total(values):\n    return np.cumsum(np.asarray(values, dtype=float))"
CORRECT_MEANS = "import numpy as np\ndef row_means(matrix):\n    return np.asarray(matrix, dtype=float).mean(axis=1)"
SUBMISSIONS = {
    "hang": {"running_total": "def running_total(values):\n    while True:\n        pass", "row_means": CORRECT_MEANS},
    "noisy": {
        "running_total": ("import sys, warnings\nimport numpy as np\n\ndef running_total(values):\n"
                          "    warnings.warn('this answer warns', UserWarning)\n"
                          "    np.log(np.zeros(1))  # RuntimeWarning: divide by zero\n"
                          "    print('50%|#####     | 1/2', file=sys.stderr)\n"
                          "    return np.cumsum(np.asarray(values, dtype=float))"),
        "row_means": ("import sys, warnings\nimport numpy as np\n\ndef row_means(matrix):\n"
                      "    warnings.warn('old API', FutureWarning)\n"
                      "    print('library chatter', file=sys.stderr)\n"
                      "    return np.asarray(matrix, dtype=float).mean(axis=1)"),
    },
    "crash": {"running_total": CORRECT_TOTAL,
              "row_means": "def row_means(matrix):\n    raise ValueError('rows do not line up')"},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("robust")
    release = FIXTURE_RELEASE / NAME / f"{NAME}.ipynb"
    for student, answers in SUBMISSIONS.items():
        write_submission(scratch / "submitted", student, NAME, with_answers(release, answers))
    deleted = filled_with_solutions(release, FIXTURE_SOLUTIONS / NAME / f"{NAME}.ipynb")
    deleted.cells = [cell for cell in deleted.cells if grade_id(cell) != "test_row_means"]
    write_submission(scratch / "submitted", "deleted", NAME, deleted)
    report = grade_class(scratch / "submitted", scratch / "out", solutions_dir=FIXTURE_SOLUTIONS, workers=2,
                         timeout=TIMEOUT_SECONDS, progress=False)
    return report, list(csv.DictReader(report.cell_grades_csv.open()))


def _autograded(report, student):
    return read(report.out_dir / "autograded" / student / NAME / f"{NAME}.ipynb")


def test_every_submission_is_graded(graded):
    report, cells = graded
    assert report.failures == [], report.failures
    assert {row["student_id"] for row in cells} == {*SUBMISSIONS, "deleted"}


def test_a_hanging_answer_times_out_and_only_its_test_scores_zero(graded):
    report, cells = graded
    assert cell_scores(cells, "hang", NAME) == {"test_running_total": 0.0, "test_row_means": 2.0}
    assert "CellTimeoutError" in error_text(_autograded(report, "hang"), "test_running_total")
    autograde = [s for s in report.steps if s.step == "autograde"]
    assert max(s.seconds for s in autograde) < 20 * TIMEOUT_SECONDS, "the timeout did not cut the loop off"


def test_warnings_and_stderr_from_correct_answers_keep_full_marks(graded):
    report, cells = graded
    assert cell_scores(cells, "noisy", NAME) == {"test_running_total": 1.0, "test_row_means": 2.0}
    notebook = _autograded(report, "noisy")
    for cell in notebook.cells:
        assert not [o for o in cell.get("outputs", []) if o.get("name") == "stderr" and grade_id(cell).startswith("test")]


def test_an_exception_in_student_code_reads_well_and_zeroes_only_that_test(graded):
    report, cells = graded
    assert cell_scores(cells, "crash", NAME) == {"test_running_total": 1.0, "test_row_means": 0.0}
    message = error_text(_autograded(report, "crash"), "test_row_means")
    for part in ("row_means", "raised ValueError", "rows do not line up", "line 2"):
        assert part in message, f"{part!r} missing from the feedback message: {message}"
    feedback = (report.out_dir / "feedback" / "crash" / NAME / f"{NAME}.html").read_text()
    assert "rows do not line up" in feedback


def test_a_deleted_test_cell_is_put_back_and_graded(graded):
    report, cells = graded
    assert cell_scores(cells, "deleted", NAME) == {"test_running_total": 1.0, "test_row_means": 2.0}
