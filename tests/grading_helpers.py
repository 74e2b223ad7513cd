"""Shared by the grading tests: build student submissions from a release and read autograded results."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE_SOLUTIONS = REPO_ROOT / "tests" / "fixtures" / "solutions"
FIXTURE_RELEASE = REPO_ROOT / "tests" / "fixtures" / "notebooks"
sys.path.insert(0, str(REPO_ROOT / "tools"))


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_solution(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell (a written "think" answer is graded too, but it is a solution cell graded by hand)."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def is_written_answer(cell) -> bool:
    """A manually graded answer: nbgrader's solution cell with points, a markdown "think" question here."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def is_prediction(cell) -> bool:
    """A Think question's prediction: a code answer cell whose function a later cell reads back (grade id
    ``...prediction``); not graded itself, the written answer of its question is."""
    meta = cell.metadata.get("nbgrader", {})
    return (cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")
            and str(meta.get("grade_id", "")).endswith("prediction"))


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def filled_with_solutions(release: Path, source: Path):
    """The release notebook with every answer cell's source taken from the source notebook (same grade_id)."""
    answers = {grade_id(c): c.source for c in read(source).cells if is_solution(c)}
    notebook = read(release)
    for cell in notebook.cells:
        if is_solution(cell):
            cell.source = answers[grade_id(cell)]
    return notebook


def with_visible_tests_gutted(release: Path):
    """The untouched release, but every test cell replaced by `pass` (a student trying to pass trivially)."""
    notebook = read(release)
    for cell in notebook.cells:
        if is_test(cell):
            cell.source = "pass"
    return notebook


def with_answers(release: Path, answers: dict[str, str]):
    """The release with the given answer cells (by grade_id) replaced by ``answers``."""
    notebook = read(release)
    for cell in notebook.cells:
        if is_solution(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return notebook


def write_submission(submitted: Path, student: str, assignment: str, notebook) -> Path:
    """submitted/<student>/<assignment>/<assignment>.ipynb, plus the release's other files."""
    folder = submitted / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, str(path))
    return path


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
