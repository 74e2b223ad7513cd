"""Shared by the grading tests: where the fixtures are, made-up submissions (course_lib.instructor.cells), results."""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_lib.instructor.cells import (filled_with_solutions, grade_id, is_solution, is_test,  # noqa: F401
                                         is_written_answer, with_answers, write_submission)
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
FIXTURE_SOLUTIONS = REPO_ROOT / "tests" / "fixtures" / "solutions"
FIXTURE_RELEASE = REPO_ROOT / "tests" / "fixtures" / "notebooks"


def is_prediction(cell) -> bool:
    """A Think question's prediction: a code answer cell whose function a later cell reads back (grade id
    ``...prediction``); not graded itself, the written answer of its question is."""
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")
            and str(meta.get("grade_id", "")).endswith("prediction"))


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def with_visible_tests_gutted(release: Path):
    """The untouched release, but every test cell replaced by `pass` (a student trying to pass trivially)."""
    notebook = read(release)
    for cell in notebook.cells:
        if is_test(cell):
            cell.source = "pass"
    return notebook


def cell_scores(rows: list[dict], student: str, assignment: str) -> dict[str, float]:
    """{grade_id: score} of one student's assignment from grade_class's cell_grades.csv rows."""
    return {row["grade_id"]: float(row["score"]) for row in rows
            if row["student_id"] == student and row["assignment"] == assignment}


def error_text(notebook, cell_grade_id: str) -> str:
    """The error outputs (name, value, traceback) of the cell with ``cell_grade_id``, as plain text."""
    for cell in notebook.cells:
        if grade_id(cell) == cell_grade_id:
            return "\n".join(f"{o.get('ename')}: {o.get('evalue')}\n" + "\n".join(o.get("traceback", []))
                             for o in cell.get("outputs", []) if o.get("output_type") == "error")
    raise KeyError(cell_grade_id)
