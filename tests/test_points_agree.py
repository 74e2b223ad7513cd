"""An exercise's points are written in three places; they must agree, in solutions/ and in the release.

The heading a student reads ("Exercise 3 (2 points)"), the test cell's nbgrader metadata (what nbgrader grades
with, and what formgrader's toolbar changes) and the checker's declared ``points`` (``Declaration``; what the check's
panel and the notebook's closing progress table show). The checker's declaration is the source: change it, then
the heading and the metadata to match. A Think question has two: its heading and its answer cell's metadata.
CONTRIBUTING.md says how to change them.

Which checker a test cell calls is read from the notebook itself: the ``check_...`` it calls, imported from the
module a cell of the notebook names (``from course_lib.grading.transforms import check_crop``). No table lists
a notebook's checker modules.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.feedback import progress
from course_lib.instructor.exercises import check_imports
from grading_helpers import REPO_ROOT, course_notebooks, grade_id, is_test, is_written_answer, read

HEADING = re.compile(r"^#+\s*(Exercise|Think)\s+(\d+)\s+\((\d+(?:\.\d+)?)\s+points?\b", re.M)
CHECK_CALL = re.compile(r"\b(check_\w+)\(")
NOTEBOOKS = [REPO_ROOT / folder / name / f"{name}.ipynb" for folder in ("solutions", "notebooks")
             for name in course_notebooks()]


@dataclass(frozen=True)
class Graded:
    """One graded cell with the points each place gives it (``checker`` is None for a Think question)."""

    kind: str
    number: int
    grade_id: str
    heading_points: float
    cell_points: float
    checker: str | None = None
    checker_number: int | None = None
    checker_points: float | None = None

    def disagreement(self, where: str) -> str | None:
        checker = "" if self.checker is None else f", {self.checker}(points=) {self.checker_points:g}"
        values = {self.heading_points, self.cell_points} | ({self.checker_points} if self.checker else set())
        if len(values) > 1:
            return (f"{where}: {self.kind} {self.number} ({self.grade_id}): its points disagree: the heading says "
                    f"{self.heading_points:g}, the cell's nbgrader metadata {self.cell_points:g}{checker}")
        if self.checker is not None and self.checker_number != self.number:
            return (f"{where}: {self.kind} {self.number} ({self.grade_id}) calls {self.checker}, which is exercise "
                    f"{self.checker_number}")
        return None


def _checker(notebook: str, source: str, imports: dict[str, str]) -> tuple[str, int, float]:
    """(name, number, points) of the check a test cell calls, found where the notebook imports it from."""
    found = CHECK_CALL.search(source)
    assert found, f"{notebook}: a test cell calls no check_...: {source[:80]!r}"
    module = imports.get(found.group(1))
    assert module, (f"{notebook}: {found.group(1)} is imported by no cell of the notebook (a test cell starts with "
                    f"`from course_lib.grading.<module> import {found.group(1)}`)")
    check = getattr(importlib.import_module(module), found.group(1), None)
    assert check is not None, f"{notebook}: {module} has no {found.group(1)}"
    return found.group(1), check.exercise.number, check.exercise.points


def graded_cells(notebook_name: str, notebook: nbformat.NotebookNode) -> tuple[list[Graded], list[str]]:
    """Every graded cell with the heading above it; and the problems found on the way (a cell without heading)."""
    graded, problems, heading = [], [], None
    imports = check_imports(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and not is_written_answer(cell):
            heading = next(reversed(list(HEADING.finditer(cell.source))), heading)
        if not (is_test(cell) or is_written_answer(cell)):
            continue
        kind = "Exercise" if is_test(cell) else "Think"
        if heading is None or heading.group(1) != kind:
            problems.append(f"{kind} cell {grade_id(cell)} has no '{kind} N (P points)' heading above it")
            continue
        points = float(cell.metadata["nbgrader"]["points"])
        checker = _checker(notebook_name, cell.source, imports) if kind == "Exercise" else (None, None, None)
        graded.append(Graded(kind, int(heading.group(2)), grade_id(cell), float(heading.group(3)), points, *checker))
        heading = None
    return graded, problems


def disagreements(path: Path, notebook: nbformat.NotebookNode | None = None) -> list[str]:
    """What differs between headings, nbgrader metadata and checkers in the notebook at ``path``."""
    name = path.stem
    graded, problems = graded_cells(name, notebook if notebook is not None else read(path))
    where = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    problems = [f"{where}: {problem}" for problem in problems]
    problems += [found for item in graded if (found := item.disagreement(where))]
    exercises = sorted(item.number for item in graded if item.kind == "Exercise")
    registered = [exercise.number for exercise, _ in progress(name).rows]
    if exercises != registered:
        problems.append(f"{where}: its exercises are numbered {exercises}, its checkers {registered}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_heading_metadata_and_checker_give_the_same_points(path):
    assert not disagreements(path), "\n".join(disagreements(path))


def test_every_exercise_and_every_think_question_are_compared():
    """As many exercises compared as checkers registered and exercise headings written (README.md gives the count,
    which tests/test_readme_counts.py checks), and every Think question."""
    solutions = [p for p in NOTEBOOKS if p.parent.parent.name == "solutions"]
    graded = [g for p in solutions for g in graded_cells(p.stem, read(p))[0]]
    written = [c for p in solutions for c in read(p).cells if is_written_answer(c)]
    registered = sum(len(progress(p.stem).rows) for p in solutions)
    headings = sum(1 for p in solutions for c in read(p).cells if c.cell_type == "markdown"
                   for m in HEADING.finditer(c.source) if m.group(1) == "Exercise")
    assert sum(g.kind == "Exercise" for g in graded) == registered == headings > 0
    assert sum(g.kind == "Think" for g in graded) == len(written) >= len(solutions)


def _changed(path: Path, grade: str, *, points: float | None = None, heading: tuple[str, str] | None = None):
    notebook = read(path)
    for index, cell in enumerate(notebook.cells):
        if grade_id(cell) == grade and points is not None:
            cell.metadata["nbgrader"]["points"] = points
        if heading is not None and heading[0] in cell.source and cell.cell_type == "markdown":
            cell.source = cell.source.replace(*heading)
    return notebook


def test_a_change_in_one_place_is_named_with_all_three_values():
    path = REPO_ROOT / "solutions" / "04_cfcm_training" / "04_cfcm_training.ipynb"
    # formgrader's toolbar changes the metadata alone
    assert disagreements(path, _changed(path, "decoder-test", points=2)) == [
        "solutions/04_cfcm_training/04_cfcm_training.ipynb: Exercise 3 (decoder-test): its points disagree: the heading "
        "says 3, the cell's nbgrader metadata 2, check_cfcm_decoder(points=) 3"]
    found = disagreements(path, _changed(path, "dice-test", heading=("Exercise 1 (2 points)", "Exercise 1 (3 points)")))
    assert found == ["solutions/04_cfcm_training/04_cfcm_training.ipynb: Exercise 1 (dice-test): its points disagree: "
                     "the heading says 3, the cell's nbgrader metadata 2, check_dice(points=) 2"]
    think = next(g for g in graded_cells("04_cfcm_training", read(path))[0] if g.kind == "Think")
    found = disagreements(path, _changed(path, think.grade_id, points=2))
    assert found == [f"solutions/04_cfcm_training/04_cfcm_training.ipynb: Think {think.number} ({think.grade_id}): its "
                     "points disagree: the heading says 1, the cell's nbgrader metadata 2"]


def test_a_checker_that_gives_other_points_is_named(monkeypatch):
    import dataclasses

    from course_lib.grading.training import check_one_cycle

    monkeypatch.setattr(check_one_cycle, "exercise", dataclasses.replace(check_one_cycle.exercise, points=3))
    path = REPO_ROOT / "notebooks" / "04_cfcm_training" / "04_cfcm_training.ipynb"
    assert disagreements(path) == [
        "notebooks/04_cfcm_training/04_cfcm_training.ipynb: Exercise 6 (one-cycle-test): its points disagree: the "
        "heading says 2, the cell's nbgrader metadata 2, check_one_cycle(points=) 3"]


GRADE_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_every_grade_id_has_the_course_s_one_style(path: Path):
    """Kebab case everywhere (``crop-answer``, ``crop-test``, ``think-1``): what the scaffold makes and CONTRIBUTING
    shows, so an instructor never guesses which of two styles a notebook uses."""
    other = [name for cell in read(path).cells if (name := grade_id(cell)) and not GRADE_ID.fullmatch(name)]
    assert not other, f"{path.name}: grade ids not in kebab case: {other}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_every_test_cell_is_locked(path: Path):
    """A graded test cell is locked in the source as in the release (nbgrader's LockCells locks it there anyway), so
    a master notebook never looks as if a student were meant to edit one check and not another."""
    unlocked = [grade_id(cell) for cell in read(path).cells if is_test(cell) and not cell.metadata.nbgrader.get("locked")]
    assert not unlocked, f"{path.name}: graded test cells not locked: {unlocked}"


EXERCISE_TITLE = re.compile(r"^#+\s*Exercise\s+(\d+)\s+\([^)]*\):\s*(.+?)\s*$", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.parent.name}/{path.stem}")
def test_every_check_is_titled_as_its_heading(path: Path):
    """The check's panel and the closing progress table name an exercise as its heading does (plus the function's
    name), so a student finds the exercise a line of feedback speaks of."""
    headings = {int(found.group(1)): found.group(2) for cell in read(path).cells if cell.cell_type == "markdown"
                for found in EXERCISE_TITLE.finditer(cell.source)}
    titles = {exercise.number: exercise.title.rsplit(" (", 1)[0] for exercise, _ in progress(path.stem).rows}
    differ = {number: (headings.get(number), title) for number, title in titles.items() if headings.get(number) != title}
    assert not differ, f"{path.name}: heading against check title: {differ}"
