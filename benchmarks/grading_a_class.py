"""Grading a class of the real notebooks: seconds per student with 1 and 2 workers, and whether each got its due.

A made-up class submits all four notebooks each, solved, with one thing that used to cost a correct submission
its grade or that must not earn one:

* full:      every answer right;
* pasted:    notebook 4's first answer and test cells copied and pasted by JupyterLab (same grade ids);
* renamed:   notebook 2's first answer cell's grade id renamed;
* noisy:     notebook 3's functions print to stderr, log and warn every time they are called;
* disguised: notebook 1's crop answer is the library's class under the exercise's name, ``__module__`` rewritten;
* deafhang:  notebook 1's crop answer ignores SIGINT and loops forever when called.

It runs class grading (``course_lib.instructor.class_grading.grade_class``, what ``tools/grade_class.py`` runs) as
the README's command does, without recording the class in the checkout's gradebook, once per worker count, and
prints the wall seconds, the seconds per student, and per student the points against the points deserved.

    python benchmarks/grading_a_class.py [--workers 1 2] [--timeout 40] [--students full pasted ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import copy
import csv
import re
import tempfile
import time
from pathlib import Path

import nbformat

from common import table  # benchmarks/common.py: a script's own folder is on Python's import path
from course_lib.instructor.cells import filled_with_solutions, grade_id, is_solution, is_test, write_submission
from course_lib.instructor.class_grading import grade_class
from course_lib.instructor.status import CellState
from course_lib.settings import repository_root

REPO_ROOT = repository_root()

ASSIGNMENTS = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir() and p.name[0] != ".")
NOISE = "print('debug: called', file=sys.stderr); logging.warning('still debugging'); warnings.warn('my own warning')"
HANG = ("import signal\n\nclass CropActualImage:\n    def __call__(self, data):\n"
        "        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's interrupt changes nothing\n"
        "        while True:\n            pass\n")
DISGUISE = ("from course_lib.data.transforms import CropActualImage\n"
            "CropActualImage.__module__ = '__main__'\nCropActualImage.__qualname__ = 'CropActualImage'\n")


def solved(assignment: str) -> nbformat.NotebookNode:
    return filled_with_solutions(REPO_ROOT / "notebooks" / assignment / f"{assignment}.ipynb",
                                 REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def first_answer(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if is_solution(cell) and grade_id(cell))


def pasted(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    index = first_answer(notebook)
    test = next(i for i in range(index, len(notebook.cells)) if is_test(notebook.cells[i]))
    for offset, cell in enumerate(copy.deepcopy(notebook.cells[index:test + 1])):
        cell["id"] = f"pasted-{offset}"
        notebook.cells.insert(test + 1 + offset, cell)
    return notebook


def renamed(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook.cells[first_answer(notebook)].metadata.nbgrader["grade_id"] += "-mine"
    return notebook


def noisy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every function of every answer cell first prints to stderr, logs and warns."""
    for cell in notebook.cells:
        if is_solution(cell):
            body = re.sub(r"^(\s*)def (.*):\s*$", lambda m: f"{m.group(0)}\n{m.group(1)}    {NOISE}", cell.source,
                          flags=re.M)
            cell.source = "import logging, sys, warnings\n" + body
    return notebook


def replaced(answer: str, source: str):
    """The answer cell whose grade id is ``answer`` given ``source`` instead."""
    def change(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
        next(cell for cell in notebook.cells if is_solution(cell) and grade_id(cell) == answer).source = source
        return notebook
    return change


# student: (assignment changed, change, the exercises (test grade ids) that must score zero)
STUDENTS = {
    "full": (None, None, set()),
    "pasted": ("04_cfcm_training", pasted, set()),
    "renamed": ("02_skip_connections", renamed, set()),
    "noisy": ("03_convlstm", noisy, set()),
    "disguised": ("01_data_transforms", replaced("crop-answer", DISGUISE), {"crop-test"}),
    "deafhang": ("01_data_transforms", replaced("crop-answer", HANG), {"crop-test"}),
}


def make_class(folder: Path, students: list[str]) -> None:
    for student in students:
        changed, change, _ = STUDENTS[student]
        for assignment in ASSIGNMENTS:
            notebook = solved(assignment)
            if assignment == changed:
                notebook = change(notebook)
            write_submission(folder, student, assignment, notebook)


def deserved(cells: list[dict], student: str) -> tuple[float, float, float]:
    """(points received, points deserved, points of written answers awaiting manual grading) over all of the
    student's notebooks; the written answers are the instructor's to grade, so they count in neither of the first."""
    rows = [row for row in cells if row["student_id"] == student]
    awaiting = [row for row in rows if row["grading"] == CellState.AWAITING.value]
    rows = [row for row in rows if row["grading"] != CellState.AWAITING.value]
    zero = STUDENTS[student][2]
    received = sum(float(row["score"] or 0) for row in rows)
    due = sum(0.0 if row["grade_id"] in zero else float(row["max_score"]) for row in rows)
    return received, due, sum(float(row["max_score"]) for row in awaiting)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=int, default=40, help="seconds per cell (the issue's class used 40)")
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=list(STUDENTS))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "grade_class")
    arguments = parser.parse_args()
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory(prefix="cfcm-class-") as scratch:
        submitted = Path(scratch) / "submitted"
        make_class(submitted, arguments.students)
        for workers in arguments.workers:
            out = arguments.out / f"workers-{workers}"
            start = time.perf_counter()
            report = grade_class(submitted, out, workers=workers, timeout=arguments.timeout, progress=False)
            wall = time.perf_counter() - start
            cells = list(csv.DictReader(report.cell_grades_csv.open()))
            statuses = {(r["student_id"], r["assignment"]): r["status"] for r in csv.DictReader(report.grades_csv.open())}
            right = 0
            for student in arguments.students:
                received, due, awaiting = deserved(cells, student)
                right += received == due
                changed = STUDENTS[student][0] or ASSIGNMENTS[0]
                verdicts.append([workers, student, f"{received:g}", f"{due:g}", "yes" if received == due else "NO",
                                 f"{awaiting:g}", statuses.get((student, changed), "missing")[:70]])
            rows.append([workers, len(arguments.students), f"{wall:.0f}", f"{wall / len(arguments.students):.1f}",
                         f"{right}/{len(arguments.students)}", len(report.not_graded)])
    print(f"{len(ASSIGNMENTS)} notebooks per student, --timeout {arguments.timeout}, grade_class.py as the README runs it")
    print(table(["workers", "students", "wall s", "s per student", "graded right", "not graded"], rows))
    print(table(["workers", "student", "points", "deserved", "right", "awaiting manual", "status of the changed notebook"],
                verdicts))


if __name__ == "__main__":
    main()
