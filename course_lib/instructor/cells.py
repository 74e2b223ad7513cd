"""nbgrader's cells of a notebook, by role, and made-up submissions built from a release.

An answer cell is a *solution* cell (the student writes it); a test cell is a *grade* cell that is not a solution
(the autograder scores it); a written answer is both (an instructor grades it by hand). A made-up submission is the
release with some answer cells filled in: how the tests and benchmarks rehearse grading a class.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["grade_id", "is_solution", "is_test", "is_written_answer", "with_answers", "filled_with_solutions",
           "write_submission"]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell) -> str | None:
    return _meta(cell).get("grade_id")


def is_solution(cell) -> bool:
    return bool(_meta(cell).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell (a written answer is graded too, but by hand)."""
    return bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def is_written_answer(cell) -> bool:
    """A manually graded answer: a solution cell with points (the course's "Think" questions)."""
    return bool(_meta(cell).get("grade")) and bool(_meta(cell).get("solution"))


def with_answers(release: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with the answer cells of ``answers`` ({grade id: source}) filled in."""
    notebook = nbformat.read(str(release), as_version=4)
    for cell in notebook.cells:
        if is_solution(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return notebook


def filled_with_solutions(release: Path, source: Path) -> nbformat.NotebookNode:
    """The release notebook with every answer cell taken from the source notebook (same grade id): full marks."""
    answers = {grade_id(c): c.source for c in nbformat.read(str(source), as_version=4).cells if is_solution(c)}
    return with_answers(release, answers)


def write_submission(submitted: Path, student: str, assignment: str, notebook: nbformat.NotebookNode) -> Path:
    """``notebook`` as nbgrader's submitted layout holds it: submitted/<student>/<assignment>/<assignment>.ipynb."""
    folder = Path(submitted) / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, str(path))
    return path
