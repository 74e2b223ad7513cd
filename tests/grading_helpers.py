"""Shared by the grading tests: where the fixtures are, made-up submissions (course_lib.instructor.cells), results."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from course_lib.instructor.cells import (filled_with_solutions, grade_id, is_solution, is_test,  # noqa: F401
                                         is_written_answer, with_answers, write_submission)
from course_lib.instructor.course import find_assignments
from course_lib.instructor.exercises import is_prediction  # noqa: F401 - a Think question's prediction cell
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
SOLUTIONS = REPO_ROOT / "solutions"
FIXTURE_SOLUTIONS = REPO_ROOT / "tests" / "fixtures" / "solutions"
FIXTURE_RELEASE = REPO_ROOT / "tests" / "fixtures" / "notebooks"
# `make check NOTEBOOK=<name>` sets it: the tests that go notebook by notebook take that one alone (and no fixture).
ONE_NOTEBOOK = os.environ.get("COURSE_NOTEBOOK", "").strip()


def selected(names: list[str]) -> list[str]:
    """``names`` (assignments), or only ``$COURSE_NOTEBOOK`` among them when it is set."""
    if not ONE_NOTEBOOK:
        return list(names)
    if ONE_NOTEBOOK not in find_assignments(SOLUTIONS):
        raise ValueError(f"COURSE_NOTEBOOK={ONE_NOTEBOOK!r} is not a notebook of solutions/: "
                         f"{find_assignments(SOLUTIONS)}")
    return [name for name in names if name == ONE_NOTEBOOK]


def course_notebooks() -> list[str]:
    """The course's notebooks (solutions/<name>/<name>.ipynb), or the one ``make check NOTEBOOK=`` names."""
    return selected(find_assignments(SOLUTIONS))


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
