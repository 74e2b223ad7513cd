"""A notebook's exercises as the notebook itself declares them: no table beside it to keep in step.

An exercise opens with a markdown heading ``## Exercise N (P points): title`` (or ``###``); its answer cells are
the nbgrader answer cells of code that follow (a Think question's prediction excepted), and its test cell is the
first autograded test cell after them. So the exercise's number is the one its heading gives, in the notebook's
order, and the check it is graded by is the ``check_...`` its test cell calls, imported from the module a cell of
the notebook names (``from course_lib.grading.transforms import check_crop``). The tests, the points' agreement
and the exercise scaffold (``course_lib.instructor.scaffold``) all read exercises from here.

A notebook's *setup cell* is its first code cell that calls ``quick_mode()``: the imports and constants every
exercise's code runs after (``tests/test_partial_answers.py`` runs the partial answers after it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading.python_source import parse_source
from course_lib.instructor.cells import grade_id, is_solution, is_test

__all__ = ["HEADING", "NotebookExercise", "exercises_of", "read_exercises", "check_imports", "setup_cell",
           "solution_notebook"]

HEADING = re.compile(r"^#{2,3}\s*Exercise\s+(\d+)\s+\((\d+(?:\.\d+)?)\s+points?\)\s*:?\s*(.*)$", re.M)
OTHER_HEADING = re.compile(r"^#{1,3}\s*(Exercise|Think)\s+\d+", re.M)
GRADING_PACKAGE = "course_lib.grading"


@dataclass(frozen=True)
class NotebookExercise:
    """One exercise of a notebook: its heading's number, title and points, and the cells that make it up."""

    notebook: str
    number: int
    title: str
    points: float
    heading_index: int            # the index of its heading's markdown cell
    answers: tuple[str, ...]      # the grade ids of its answer cells, in order
    test: str | None              # the grade id of its test cell (None: the notebook lacks one)
    test_index: int | None
    checker: str | None           # the check_... its test cell calls
    checker_module: str | None    # where the notebook imports that check from

    def __str__(self) -> str:
        return f"{self.notebook} exercise {self.number} ({self.test or 'no test cell'})"


def is_prediction(cell) -> bool:
    """A Think question's prediction: an ungraded code answer cell whose grade id ends in ``prediction``."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")
            and str(meta.get("grade_id", "")).endswith("prediction"))


def check_imports(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """{check name: module} of every ``from course_lib.grading.<module> import check_...`` in the notebook's code."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = parse_source(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{GRADING_PACKAGE}."):
                found |= {alias.asname or alias.name: node.module for alias in node.names
                          if alias.name.startswith("check_")}
    return found


def _called_check(source: str) -> str | None:
    """The first ``check_...`` a test cell calls."""
    found = re.search(r"\b(check_\w+)\(", source)
    return found.group(1) if found else None


def exercises_of(notebook: nbformat.NotebookNode, name: str) -> list[NotebookExercise]:
    """Every exercise of ``notebook`` (called ``name``), in the notebook's order."""
    imports = check_imports(notebook)
    cells = notebook.cells
    starts = [(index, match) for index, cell in enumerate(cells) if cell.cell_type == "markdown"
              for match in [next(reversed(list(HEADING.finditer(cell.source))), None)] if match]
    found = []
    for position, (index, heading) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(cells)
        answers, test, test_index = [], None, None
        for later in range(index + 1, end):
            cell = cells[later]
            if cell.cell_type == "code" and is_solution(cell) and not is_prediction(cell) and test is None:
                answers.append(grade_id(cell))
            elif is_test(cell):
                test, test_index = grade_id(cell), later
                break
            elif cell.cell_type == "markdown" and later > index and OTHER_HEADING.search(cell.source):
                break
        checker = _called_check(cells[test_index].source) if test_index is not None else None
        found.append(NotebookExercise(name, int(heading.group(1)), heading.group(3).strip(), float(heading.group(2)),
                                      index, tuple(answers), test, test_index, checker, imports.get(checker)))
    return found


def solution_notebook(solutions: Path, name: str) -> Path:
    """``solutions/<name>/<name>.ipynb``."""
    return Path(solutions) / name / f"{name}.ipynb"


def read_exercises(path: Path) -> list[NotebookExercise]:
    """The exercises of the notebook at ``path`` (named after its file)."""
    return exercises_of(nbformat.read(str(path), as_version=4), Path(path).stem)


def setup_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's setup cell: its first code cell that calls ``quick_mode()`` (its imports and constants)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and re.search(r"\bquick_mode\(\)", cell.source):
            return cell
    raise ValueError("the notebook has no setup cell (a code cell calling quick_mode(), with its imports)")
